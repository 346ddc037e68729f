import { Injectable } from '@nestjs/common';
import { and, asc, desc, eq, gte, lt, type Placeholder, type SQL } from 'drizzle-orm';
import type { FeedCursor } from '../../common/http/pagination.js';
import { afterFeedCursor, exactTimestamp } from '../../database/keyset.js';
import {
  activityLogs,
  teamMembers,
  users,
  type ActivityLog,
  type ActivityType,
  type NewActivityLog,
} from '../../database/schema.js';
import type { DbClient } from '../../database/database.tokens.js';
import { PreparedQuery, type Placeheld } from '../../database/prepared-query.js';
import { TransactionHost } from '../../database/transaction-host.js';

/** Whose activity a feed shows: one user's (any team) or one team's (any user). */
export type FeedScope = { userId: number } | { teamId: number };

export interface FeedFilter {
  action?: ActivityType;
  userId?: number;
  from?: Date;
  to?: Date;
}

/** An activity row with who acted (public fields) and its exact keyset position. */
export interface FeedRow {
  id: number;
  action: string;
  timestamp: Date;
  ipAddress: string | null;
  teamId: number;
  userId: number | null;
  userName: string | null;
  userEmail: string | null;
  /** Exact keyset position (timestamp text with microseconds). */
  cursorAt: string;
}

@Injectable()
export class AuditRepository {
  // The hot shapes of the feed (a team's, unfiltered: first page and any later page) run as
  // named prepared statements; filtered feeds are built per call.
  private readonly teamFeedFirst = new PreparedQuery(
    this.txHost,
    'audit_team_feed_first',
    (db: DbClient, { teamId, limit }: Placeheld<{ teamId: number; limit: number }>) =>
      feedQuery(db, eq(activityLogs.teamId, teamId), limit),
  );
  private readonly teamFeedAfter = new PreparedQuery(
    this.txHost,
    'audit_team_feed_after',
    (
      db: DbClient,
      {
        teamId,
        at,
        id,
        limit,
      }: Placeheld<{ teamId: number; at: string; id: number; limit: number }>,
    ) =>
      feedQuery(
        db,
        and(
          eq(activityLogs.teamId, teamId),
          afterFeedCursor(activityLogs.timestamp, activityLogs.id, { at, id } as FeedCursor),
        ),
        limit,
      ),
  );

  constructor(private readonly txHost: TransactionHost) {}

  async insert(row: NewActivityLog): Promise<ActivityLog> {
    const [created] = await this.txHost.db.insert(activityLogs).values(row).returning();
    if (!created) throw new Error('activity_logs insert returned no row');
    return created;
  }

  /**
   * The team the user joined first (ties by membership id), or undefined without a team: the
   * audit team rule. A documented cross-owner read of team_members (owned by teams, which sits
   * above audit and records through it), inside the caller's transaction.
   */
  async firstTeamId(userId: number): Promise<number | undefined> {
    const [row] = await this.txHost.db
      .select({ teamId: teamMembers.teamId })
      .from(teamMembers)
      .where(eq(teamMembers.userId, userId))
      .orderBy(asc(teamMembers.joinedAt), asc(teamMembers.id))
      .limit(1);
    return row?.teamId;
  }

  /**
   * One feed for both scopes, newest first, `limit` rows after `cursor` (exact keyset on
   * timestamp, id; served by the (user|team, timestamp desc, id desc) indexes). A read model:
   * it joins users (owned by the users module) for who acted, so a page is one round trip.
   */
  listFeed(
    scope: FeedScope,
    filter: FeedFilter,
    limit: number,
    cursor: FeedCursor | undefined,
  ): Promise<FeedRow[]> {
    const unfiltered =
      filter.action === undefined &&
      filter.userId === undefined &&
      filter.from === undefined &&
      filter.to === undefined;
    if ('teamId' in scope && unfiltered) {
      return cursor === undefined
        ? this.teamFeedFirst.execute({ teamId: scope.teamId, limit })
        : this.teamFeedAfter.execute({ teamId: scope.teamId, at: cursor.at, id: cursor.id, limit });
    }
    const where: SQL[] = [
      'teamId' in scope
        ? eq(activityLogs.teamId, scope.teamId)
        : eq(activityLogs.userId, scope.userId),
    ];
    if (filter.action !== undefined) where.push(eq(activityLogs.action, filter.action));
    if (filter.userId !== undefined) where.push(eq(activityLogs.userId, filter.userId));
    if (filter.from !== undefined) where.push(gte(activityLogs.timestamp, filter.from));
    if (filter.to !== undefined) where.push(lt(activityLogs.timestamp, filter.to));
    if (cursor !== undefined) {
      where.push(afterFeedCursor(activityLogs.timestamp, activityLogs.id, cursor));
    }
    return feedQuery(this.txHost.db, and(...where), limit);
  }
}

/** A page of the feed: `where` (scope, filters, cursor), newest first, with who acted. */
function feedQuery(db: DbClient, where: SQL | undefined, limit: number | Placeholder) {
  return db
    .select({
      id: activityLogs.id,
      action: activityLogs.action,
      timestamp: activityLogs.timestamp,
      ipAddress: activityLogs.ipAddress,
      teamId: activityLogs.teamId,
      userId: activityLogs.userId,
      userName: users.name,
      userEmail: users.email,
      cursorAt: exactTimestamp(activityLogs.timestamp),
    })
    .from(activityLogs)
    .leftJoin(users, eq(users.id, activityLogs.userId))
    .where(where)
    .orderBy(desc(activityLogs.timestamp), desc(activityLogs.id))
    .limit(limit);
}
