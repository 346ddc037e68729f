import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../../common/auth/auth-user.js';
import {
  decodeFeedCursor,
  encodeFeedCursor,
  toPage,
  type Page,
  type PageQueryDto,
} from '../../common/http/pagination.js';
import type { ActivityLog, ActivityType } from '../../database/schema.js';
import { ACTIVITY_RECORDED_BY } from './audit-policy.js';
import { AuditRepository } from './audit.repository.js';
import { ActivityDto } from './audit.dto.js';

interface AuditEntryBase {
  action: ActivityType;
  ipAddress: string | null;
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

@Injectable()
export class AuditService {
  constructor(private readonly audit: AuditRepository) {}

  /**
   * Writes an activity row through TransactionHost.db, so inside `txHost.transaction(...)` it
   * commits (or rolls back) with the change. Returns the row, or null when the user has no
   * team to log against. Only for types ACTIVITY_RECORDED_BY assigns to services.
   */
  record(entry: AuditEntry): Promise<ActivityLog | null> {
    if (ACTIVITY_RECORDED_BY[entry.action] !== 'service') {
      throw new Error(
        `AuditService.record(${entry.action}): this type is recorded by @Audit on its route`,
      );
    }
    return this.write(entry);
  }

  /** Used by AuditInterceptor for @Audit routes; services call `record`. */
  async write(entry: AuditEntry): Promise<ActivityLog | null> {
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
    });
  }

  async listMine(auth: AuthUser, query: PageQueryDto): Promise<Page<ActivityDto>> {
    const cursor = decodeFeedCursor(query.cursor);
    const rows = await this.audit.listForUser(auth.id, query.limit + 1, cursor);
    return toPage(
      rows,
      query.limit,
      (row) => ActivityDto.from(row),
      (row) => encodeFeedCursor({ at: row.cursorAt, id: row.id }),
    );
  }
}
