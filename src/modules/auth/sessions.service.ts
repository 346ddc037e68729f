import { Injectable } from '@nestjs/common';
import { AccessService } from '../access/access.service.js';
import { JwtService } from '@nestjs/jwt';
import { randomUUID } from 'node:crypto';
import type { AdminActor, UserActor } from '../../common/auth/actor.js';
import { AppConfig } from '../../config/app-config.js';
import { ActivityType } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { AuditService } from '../audit/audit.service.js';
import { TeamsService } from '../teams/teams.service.js';
import { UsersService } from '../users/users.service.js';
import { AuthErrors } from './auth.errors.js';
import { SessionDto } from './sessions.dto.js';
import { SessionsRepository, type RevokeReason } from './sessions.repository.js';
import { recordOnUserTeams } from './staff-audit.js';
import { formatRefreshToken, parseRefreshToken, randomSecret, sameHash, sha256 } from './tokens.js';

/** GET /users/me/sessions lists at most this many (the most recently used). */
export const SESSIONS_LIST_MAX = 100;

export interface ClientMeta {
  ip: string | null;
  userAgent?: string | undefined;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
  sessionId: string;
  userId: number;
}

/**
 * Sessions (one per signed-in device) and the tokens bound to them. Exported: the admin
 * panel revokes a user's sessions with the same rules (`revokeAllForUser`).
 */
@Injectable()
export class SessionsService {
  constructor(
    private readonly config: AppConfig,
    private readonly jwt: JwtService,
    private readonly txHost: TransactionHost,
    private readonly sessions: SessionsRepository,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    private readonly teams: TeamsService,
    private readonly access: AccessService,
  ) {}

  /** GET /users/me/sessions: my live sessions, most recently used first, this one marked. */
  async listMine(actor: UserActor): Promise<SessionDto[]> {
    const rows = await this.sessions.listActiveForUser(actor.id, new Date(), SESSIONS_LIST_MAX);
    return rows.map((row) => SessionDto.from(row, actor.sessionId));
  }

  /**
   * DELETE /users/me/sessions/:sessionId: ends one of my live sessions (this one too, like
   * sign-out). Another user's session, an unknown or an ended one: 404 `session.not_found`.
   * REVOKE_SESSION commits with the revocation.
   */
  async revokeMine(actor: UserActor, sessionId: string): Promise<void> {
    await this.txHost.transaction(async () => {
      const revoked = await this.sessions.revokeOwned(
        sessionId,
        actor.id,
        'revoked_by_user',
        new Date(),
      );
      if (!revoked) throw AuthErrors.sessionNotFound();
      await this.audit.recordFor(actor, { action: ActivityType.REVOKE_SESSION });
    });
  }

  /**
   * DELETE /users/me/sessions: ends every session of mine but the calling one (my /admin
   * sessions too). One
   * REVOKE_SESSION row when at least one session ended (none when there was nothing to end).
   */
  async revokeMyOthers(actor: UserActor): Promise<void> {
    await this.txHost.transaction(async () => {
      const count = await this.endAll(actor.id, 'revoked_by_user', actor.sessionId);
      if (count === 0) return;
      await this.audit.recordFor(actor, { action: ActivityType.REVOKE_SESSION });
    });
  }

  /**
   * Back office ("Revoke all sessions"): ends every live session of the user (reason `admin`;
   * their refresh and access tokens stop working; their /admin sessions end too), and when at least one ended logs
   * ADMIN_REVOKE_SESSIONS against each of the user's teams, in one transaction. Returns how
   * many ended. 404 `user.not_found` for a deleted account; 403 `admin.read_only` for support.
   */
  async revokeAllByAdmin(actor: AdminActor, userId: number): Promise<number> {
    this.access.requireAccountWrite(actor);
    return this.txHost.transaction(async () => {
      if (!(await this.users.lockActiveById(userId))) throw AuthErrors.userNotFound();
      const count = await this.endAll(userId, 'admin');
      if (count > 0) {
        await recordOnUserTeams(
          this.audit,
          this.teams,
          actor,
          userId,
          ActivityType.ADMIN_REVOKE_SESSIONS,
        );
      }
      return count;
    });
  }

  /** Opens a session for the user (inside the caller's transaction, if any) and issues tokens. */
  async open(userId: number, meta: ClientMeta): Promise<IssuedTokens> {
    const id = randomUUID();
    const secret = randomSecret();
    const now = new Date();
    await this.sessions.insert({
      id,
      userId,
      refreshTokenHash: sha256(secret),
      createdAt: now,
      lastRefreshedAt: now,
      lastUsedAt: now,
      expiresAt: this.refreshExpiry(now),
      userAgent: meta.userAgent?.slice(0, 500) ?? null,
      ipAddress: meta.ip?.slice(0, 45) ?? null,
    });
    return this.issue(userId, id, secret);
  }

  /**
   * Rotates the refresh token: the presented one stops working and a new pair is issued.
   * Presenting a token that was already rotated (its secret no longer matches the session)
   * means it leaked or was replayed: the whole session is revoked.
   */
  async refresh(rawToken: string): Promise<IssuedTokens> {
    const parsed = parseRefreshToken(rawToken);
    if (parsed === undefined) throw AuthErrors.invalidRefreshToken();
    // The revocation on reuse must commit, so failures are returned, not thrown, from the transaction.
    const issued = await this.txHost.transaction(async () => {
      const now = new Date();
      const session = await this.sessions.findByIdForUpdate(parsed.sessionId);
      if (!session || session.revokedAt !== null || session.expiresAt <= now) return undefined;
      if (!sameHash(sha256(parsed.secret), session.refreshTokenHash)) {
        await this.sessions.revoke(session.id, 'refresh_token_reuse', now);
        return undefined;
      }
      if (!(await this.users.findActiveById(session.userId))) return undefined;
      const secret = randomSecret();
      await this.sessions.rotate(session.id, sha256(secret), this.refreshExpiry(now), now);
      return this.issue(session.userId, session.id, secret);
    });
    if (issued === undefined) throw AuthErrors.invalidRefreshToken();
    return issued;
  }

  async revoke(sessionId: string, reason: RevokeReason): Promise<void> {
    await this.sessions.revoke(sessionId, reason, new Date());
  }

  /**
   * Ends every session of the user but `exceptSessionId`, back-office sessions included;
   * joins the caller's transaction.
   */
  revokeAllForUser(
    userId: number,
    reason: RevokeReason,
    exceptSessionId?: string,
  ): Promise<number> {
    return this.endAll(userId, reason, exceptSessionId);
  }

  /**
   * The one way every session of a user ends: their API sessions but `exceptSessionId` are
   * revoked and the user's session epoch is raised, which ends their /admin sessions on their
   * next request (the admin module compares it; auth never reads its session table). Returns
   * how many API sessions ended.
   */
  private async endAll(
    userId: number,
    reason: RevokeReason,
    exceptSessionId?: string,
  ): Promise<number> {
    await this.users.raiseSessionEpoch(userId);
    return this.sessions.revokeAllForUser(userId, reason, new Date(), exceptSessionId);
  }

  private refreshExpiry(now: Date): Date {
    return new Date(now.getTime() + this.config.jwt.refreshTtlSeconds * 1000);
  }

  private async issue(userId: number, sessionId: string, secret: string): Promise<IssuedTokens> {
    // Algorithm, issuer, audience and lifetime come from JwtModule's signOptions.
    const accessToken = await this.jwt.signAsync({ sid: sessionId }, { subject: String(userId) });
    return {
      accessToken,
      refreshToken: formatRefreshToken(sessionId, secret),
      expiresIn: this.config.jwt.accessTtlSeconds,
      sessionId,
      userId,
    };
  }
}
