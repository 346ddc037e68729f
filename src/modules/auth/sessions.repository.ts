import { Injectable } from '@nestjs/common';
import { and, desc, eq, gt, isNull, isNotNull, lt, ne } from 'drizzle-orm';
import type { DbClient } from '../../database/database.tokens.js';
import { PreparedQuery, type Placeheld } from '../../database/prepared-query.js';
import { TransactionHost } from '../../database/transaction-host.js';
import {
  sessions,
  users,
  type NewSession,
  type Session,
  type SystemRole,
} from '../../database/schema.js';

export type RevokeReason =
  | 'sign_out'
  | 'refresh_token_reuse'
  | 'password_changed'
  | 'password_reset'
  | 'account_deleted'
  | 'admin'
  /** DELETE /users/me/sessions[/:id]: the user ended it from another device (or this one). */
  | 'revoked_by_user'
  /** Turning MFA on ends every other session (they were opened without a second factor). */
  | 'mfa_enabled'
  /** The team's directory (SCIM) deactivated or deleted the user. */
  | 'scim_deprovisioned'
  /** A SAML sign-in proved an unverified address: sessions opened before it end. */
  | 'mailbox_proven';

/** A live session as GET /users/me/sessions lists it. */
export type SessionListRow = Pick<
  Session,
  'id' | 'createdAt' | 'lastUsedAt' | 'ipAddress' | 'userAgent'
>;

export interface PrincipalRow {
  id: number;
  email: string;
  name: string | null;
  role: SystemRole;
  emailVerified: boolean;
  sessionId: string;
  /** sessions.last_used_at, so the guard can decide whether it is worth a write. */
  lastUsedAt: Date;
  locale: string;
}

/**
 * What authentication reads of the session and its user (see `principalQuery`). Read by
 * position by `principalFromRow`: keep the two in step.
 */
const PRINCIPAL_COLUMNS = {
  id: users.id,
  email: users.email,
  name: users.name,
  role: users.role,
  emailVerified: isNotNull(users.emailVerifiedAt).mapWith(Boolean),
  sessionId: sessions.id,
  lastUsedAt: sessions.lastUsedAt,
  locale: users.locale,
};

/** The session is this user's, live (not revoked, not expired) and the user not deleted. */
function livePrincipal({
  sessionId,
  userId,
  now,
}: Placeheld<{ sessionId: string; userId: number; now: Date }>) {
  return and(
    eq(sessions.id, sessionId),
    eq(sessions.userId, userId),
    isNull(sessions.revokedAt),
    gt(sessions.expiresAt, now),
    isNull(users.deletedAt),
  );
}

/**
 * The per-request principal: the session joined with its user (users is owned by the users
 * module) so authentication stays one round trip. A read; users rows are written only by
 * UsersService.
 */
function principalQuery(
  db: DbClient,
  { sessionId, userId, now }: Placeheld<{ sessionId: string; userId: number; now: Date }>,
) {
  return db
    .select(PRINCIPAL_COLUMNS)
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(livePrincipal({ sessionId, userId, now }))
    .limit(1);
}

@Injectable()
export class SessionsRepository {
  /**
   * Read on every authenticated request: rows mapped by position (PreparedQuery.mapped).
   * Placeholders skip the column's encoder: `now` goes as a UTC ISO string, as it would.
   */
  private readonly principal = new PreparedQuery(
    this.txHost,
    'sessions_find_principal',
    principalQuery,
    (args: { sessionId: string; userId: number; now: Date }) => ({
      ...args,
      now: args.now.toISOString(),
    }),
  );

  constructor(private readonly txHost: TransactionHost) {}

  async insert(values: NewSession): Promise<Session> {
    const [row] = await this.txHost.db.insert(sessions).values(values).returning();
    if (!row) throw new Error('sessions insert returned no row');
    return row;
  }

  /** Locks the session row for the rest of the transaction (serialises concurrent refreshes). */
  async findByIdForUpdate(id: string): Promise<Session | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(sessions)
      .where(eq(sessions.id, id))
      .for('update')
      .limit(1);
    return row;
  }

  async rotate(id: string, refreshTokenHash: string, expiresAt: Date, now: Date): Promise<void> {
    await this.txHost.db
      .update(sessions)
      .set({ refreshTokenHash, expiresAt, lastRefreshedAt: now, lastUsedAt: now })
      .where(eq(sessions.id, id));
  }

  async revoke(id: string, reason: RevokeReason, now: Date): Promise<void> {
    await this.txHost.db
      .update(sessions)
      .set({ revokedAt: now, revokedReason: reason })
      .where(and(eq(sessions.id, id), isNull(sessions.revokedAt)));
  }

  /**
   * Sets last_used_at to `now` unless it is already newer than `staleBefore`: concurrent
   * requests of one session write it once, and a fresh value is never moved backwards.
   */
  async touch(id: string, now: Date, staleBefore: Date): Promise<void> {
    await this.txHost.db
      .update(sessions)
      .set({ lastUsedAt: now })
      .where(and(eq(sessions.id, id), lt(sessions.lastUsedAt, staleBefore)));
  }

  /** The user's live sessions (not revoked, not expired), most recently used first. */
  listActiveForUser(userId: number, now: Date, limit: number): Promise<SessionListRow[]> {
    return this.txHost.db
      .select({
        id: sessions.id,
        createdAt: sessions.createdAt,
        lastUsedAt: sessions.lastUsedAt,
        ipAddress: sessions.ipAddress,
        userAgent: sessions.userAgent,
      })
      .from(sessions)
      .where(
        and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)),
      )
      .orderBy(desc(sessions.lastUsedAt), desc(sessions.createdAt))
      .limit(limit);
  }

  /**
   * Revokes session `id` only if it belongs to `userId` and is live. Returns whether it did:
   * false for another user's session, an unknown, revoked or expired one (all the same 404).
   */
  async revokeOwned(id: string, userId: number, reason: RevokeReason, now: Date): Promise<boolean> {
    const rows = await this.txHost.db
      .update(sessions)
      .set({ revokedAt: now, revokedReason: reason })
      .where(
        and(
          eq(sessions.id, id),
          eq(sessions.userId, userId),
          isNull(sessions.revokedAt),
          gt(sessions.expiresAt, now),
        ),
      )
      .returning({ id: sessions.id });
    return rows.length > 0;
  }

  /** Revokes every live session of the user, except `exceptId` when given. Returns how many. */
  async revokeAllForUser(
    userId: number,
    reason: RevokeReason,
    now: Date,
    exceptId?: string,
  ): Promise<number> {
    const rows = await this.txHost.db
      .update(sessions)
      .set({ revokedAt: now, revokedReason: reason })
      .where(
        and(
          eq(sessions.userId, userId),
          isNull(sessions.revokedAt),
          exceptId === undefined ? undefined : ne(sessions.id, exceptId),
        ),
      )
      .returning({ id: sessions.id });
    return rows.length;
  }

  /**
   * The principal behind an access token, in one query on the sessions primary key: the
   * session must be live and belong to `userId`, and the user must not be deleted. The auth
   * guard runs it on every request, outside any transaction: there it is a named prepared
   * statement (Drizzle builds it once, PostgreSQL plans it once per connection).
   */
  async findPrincipal(
    sessionId: string,
    userId: number,
    now: Date,
  ): Promise<PrincipalRow | undefined> {
    const [row] = await this.principal.execute({ sessionId, userId, now });
    // `role` is varchar in the schema; users_role_check holds it to SystemRole.
    return row as PrincipalRow | undefined;
  }
}
