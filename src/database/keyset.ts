import { sql, type AnyColumn, type SQL } from 'drizzle-orm';
import type { FeedCursor } from '../common/http/pagination.js';

/**
 * A `timestamp` column as exact text with all six fractional digits, independent of the
 * session's DateStyle: the `at` of a FeedCursor. The column type has no time zone, so no
 * conversion happens.
 */
export function exactTimestamp(column: AnyColumn): SQL<string> {
  return sql<string>`to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.US')`;
}

/**
 * Rows strictly after `cursor` in `ORDER BY timestamp DESC, id DESC`: one row comparison,
 * which the (scope, timestamp DESC, id DESC) indexes serve directly. The cursor is only a
 * position; callers always add their own scope (team, user), so a cursor taken from another
 * feed can never return rows outside that scope.
 */
export function afterFeedCursor(timestamp: AnyColumn, id: AnyColumn, cursor: FeedCursor): SQL {
  return sql`(${timestamp}, ${id}) < (${cursor.at}::timestamp, ${cursor.id}::integer)`;
}
