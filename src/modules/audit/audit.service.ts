import { Injectable } from '@nestjs/common';
import { actorUserId, type Actor, type UserActor } from '../../common/auth/actor.js';
import { CommonErrors } from '../../common/errors/common.errors.js';
import {
  decodeFeedCursor,
  encodeFeedCursor,
  toPage,
  type Page,
  type PageQueryDto,
} from '../../common/http/pagination.js';
import type { ActivityLog, ActivityType } from '../../database/schema.js';
import { ADMIN_VARIANT } from './audit-policy.js';
import { ActivityDto, CALENDAR_DATE_TIME } from './audit.dto.js';
import { AuditRepository, type FeedRow, type FeedScope } from './audit.repository.js';

export type { FeedRow, FeedScope } from './audit.repository.js';

interface AuditEntryBase {
  action: ActivityType;
  ipAddress: string | null;
  /** Why a back-office admin acted, where the action requires a reason (ADMIN_DISABLE_MFA). */
  reason?: string;
}

export type AuditEntry = AuditEntryBase &
  (
    | {
        /** The user who acted. */
        userId: number;
        /**
         * The team the action concerns. Omitted: the user's first team (earliest joinedAt),
         * read inside the current transaction. `null` or no team at all: nothing is written.
         */
        teamId?: number | null;
      }
    | {
        /** No user acted (Stripe changed a subscription): the row names only the team. */
        userId: null;
        teamId: number;
      }
  );

/** A feed's optional filters as the query carries them (`from`/`to` ISO-8601 text). */
export interface FeedQuery {
  limit: number;
  cursor?: string;
  action?: ActivityType;
  userId?: number;
  from?: string;
  to?: string;
}

/**
 * An ISO-8601 filter value as a Date. The DTO checks ISO syntax, but ISO also has week and
 * ordinal dates (`2024-W01-1`, `2024-012`) that Date rejects or misreads, and year 0 is not a
 * PostgreSQL timestamp: only calendar date(-time)s Date can read are taken, anything else is a
 * 400 here, never a driver error.
 */
function instant(raw: string | undefined, field: string): Date | undefined {
  if (raw === undefined) return undefined;
  const date = new Date(raw);
  if (!CALENDAR_DATE_TIME.test(raw) || Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1) {
    throw CommonErrors.validation('Invalid request', [
      {
        field,
        message: `${field} must be an ISO-8601 calendar date or date-time (e.g. 2030-01-31T12:00:00Z)`,
      },
    ]);
  }
  return date;
}

@Injectable()
export class AuditService {
  constructor(private readonly audit: AuditRepository) {}

  /**
   * Records `action` as the actor did it, through TransactionHost.db, so inside the service's
   * `txHost.transaction(...)` it commits (or rolls back) with the change: userId per
   * `actorUserId` (a key names its creator), the actor's address, and for a back-office admin
   * the ADMIN_ variant of the action (ADMIN_VARIANT), so the log shows an admin acted.
   * - `teamId` omitted: the user's first team (earliest joinedAt), read in the transaction; no
   *   team, no row (returns null).
   * - `userId`: the account the row is logged for when the actor acts on someone else's (an
   *   admin setting a password or deleting an account): the row names that user.
   */
  recordFor(
    actor: Actor,
    entry: { action: ActivityType; teamId?: number; userId?: number; reason?: string },
  ): Promise<ActivityLog | null> {
    const action =
      actor.kind === 'admin' ? (ADMIN_VARIANT[entry.action] ?? entry.action) : entry.action;
    return this.write({
      action,
      userId: entry.userId ?? actorUserId(actor),
      teamId: entry.teamId,
      ipAddress: actor.ip,
      reason: entry.reason,
    });
  }

  /**
   * Records what no signed-in actor caused: Stripe changing a subscription (userId null), and
   * what happens on the public routes before there is one (sign-up, sign-in, a reset or
   * verification link and what it removes), in the caller's transaction like `recordFor`.
   */
  recordSystem(entry: AuditEntry): Promise<ActivityLog | null> {
    return this.write(entry);
  }

  private async write(
    entry: AuditEntryBase & { userId: number | null; teamId?: number | null },
  ): Promise<ActivityLog | null> {
    const teamId =
      entry.teamId !== undefined
        ? entry.teamId
        : entry.userId === null
          ? null
          : await this.audit.firstTeamId(entry.userId);
    if (teamId === null || teamId === undefined) return null;
    return this.audit.insert({
      action: entry.action,
      userId: entry.userId,
      teamId,
      ipAddress: entry.ipAddress?.slice(0, 45) ?? null,
      reason: entry.reason?.slice(0, 500) ?? null,
    });
  }

  /**
   * The one activity feed, scoped to a user (GET /activity) or a team
   * (GET /teams/:teamId/activity), newest first with exact keyset cursors. Access to a team's
   * feed is decided by the caller (the teams module's access layer) before it asks.
   */
  async feed(scope: FeedScope, query: FeedQuery): Promise<Page<FeedRow>> {
    const cursor = decodeFeedCursor(query.cursor);
    const from = instant(query.from, 'from');
    const to = instant(query.to, 'to');
    if (from !== undefined && to !== undefined && to.getTime() <= from.getTime()) {
      throw CommonErrors.validation('Invalid request', [
        { field: 'to', message: 'to must be later than from (the range is [from, to))' },
      ]);
    }
    const rows = await this.audit.listFeed(
      scope,
      { action: query.action, userId: query.userId, from, to },
      query.limit + 1,
      cursor,
    );
    return toPage(
      rows,
      query.limit,
      (row) => row,
      (row) => encodeFeedCursor({ at: row.cursorAt, id: row.id }),
    );
  }

  /** GET /activity: the feed scoped to the signed-in user. */
  async listMine(actor: UserActor, query: PageQueryDto): Promise<Page<ActivityDto>> {
    const page = await this.feed({ userId: actor.id }, query);
    return { ...page, items: page.items.map((row) => ActivityDto.from(row)) };
  }
}
