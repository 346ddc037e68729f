import { Injectable } from '@nestjs/common';
import { and, asc, desc, eq, lt, or } from 'drizzle-orm';
import type { TimeCursor } from '../../common/http/pagination.js';
import {
  activityLogs,
  teamMembers,
  type ActivityLog,
  type NewActivityLog,
} from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';

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

  /** The user's rows newest first, `limit` of them after `cursor` (keyset on timestamp, id). */
  listForUser(
    userId: number,
    limit: number,
    cursor: TimeCursor | undefined,
  ): Promise<ActivityLog[]> {
    const after =
      cursor === undefined
        ? undefined
        : or(
            lt(activityLogs.timestamp, cursor.at),
            and(eq(activityLogs.timestamp, cursor.at), lt(activityLogs.id, cursor.id)),
          );
    return this.txHost.db
      .select()
      .from(activityLogs)
      .where(and(eq(activityLogs.userId, userId), after))
      .orderBy(desc(activityLogs.timestamp), desc(activityLogs.id))
      .limit(limit);
  }
}
