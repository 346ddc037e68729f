import { sql, type AnyColumn, type SQL } from 'drizzle-orm';

/**
 * Exact keyset position in an activity feed ordered by (timestamp desc, id desc). `at` is the
 * row's timestamp as PostgreSQL's text with all six fractional digits
 * (`2030-01-01T12:00:00.123456`, see `exactTimestamp` below), never a JS
 * Date: a Date keeps milliseconds only, and rows written by other paths (seed, admin panel,
 * raw SQL, `now()` defaults) carry microseconds, so a Date cursor skips or repeats rows that
 * share a millisecond at a page boundary.
 */
export interface FeedCursor {
  at: string;
  id: number;
}

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
