import { Injectable } from '@nestjs/common';
import { and, asc, desc, eq, getTableColumns } from 'drizzle-orm';
import type { FeedCursor } from '../../common/http/pagination.js';
import { afterFeedCursor, exactTimestamp } from '../../database/keyset.js';
import {
  activityLogs,
  teamMembers,
  type ActivityLog,
  type NewActivityLog,
} from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';

/** An activity row with its exact keyset position (`cursorAt`, microseconds included). */
export type ActivityLogRow = ActivityLog & { cursorAt: string };

@Injectable()
export class AuditRepository {
  constructor(private readonly txHost: TransactionHost) {}

  async insert(row: NewActivityLog): Promise<ActivityLog> {
    const [created] = await this.txHost.db.insert(activityLogs).values(row).returning();
    if (!created) throw new Error('activity_logs insert returned no row');
    return created;
  }

  /** The team the user joined first (ties by membership id), or undefined without a team. */
  async firstTeamId(userId: number): Promise<number | undefined> {
    const [row] = await this.txHost.db
      .select({ teamId: teamMembers.teamId })
      .from(teamMembers)
      .where(eq(teamMembers.userId, userId))
      .orderBy(asc(teamMembers.joinedAt), asc(teamMembers.id))
      .limit(1);
    return row?.teamId;
  }

  /** The user's rows newest first, `limit` of them after `cursor` (exact keyset on timestamp, id). */
  listForUser(
    userId: number,
    limit: number,
    cursor: FeedCursor | undefined,
  ): Promise<ActivityLogRow[]> {
    return this.txHost.db
      .select({
        ...getTableColumns(activityLogs),
        cursorAt: exactTimestamp(activityLogs.timestamp),
      })
      .from(activityLogs)
      .where(
        and(
          eq(activityLogs.userId, userId),
          cursor === undefined
            ? undefined
            : afterFeedCursor(activityLogs.timestamp, activityLogs.id, cursor),
        ),
      )
      .orderBy(desc(activityLogs.timestamp), desc(activityLogs.id))
      .limit(limit);
  }
}
