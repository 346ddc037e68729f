import { Logger } from '@nestjs/common';
import connectPgSimple from 'connect-pg-simple';
import session, { type SessionData, type SessionOptions } from 'express-session';
import type pg from 'pg';
import type { AppConfig } from '../../config/app-config.js';
import type { StaffStanding } from './admin-auth.service.js';

export const ADMIN_SESSION_COOKIE = 'nest_saas_admin';
/** Absolute lifetime of a panel session from sign-in, however active it is. */
export const ADMIN_SESSION_TTL_SECONDS = 8 * 60 * 60;

const PgStore = connectPgSimple(session);

declare module 'express-session' {
  interface SessionData {
    /**
     * Set by AdminJS at sign-in (what AdminAuthService.authenticate returned). `role` is
     * refreshed from users.role each time the session is loaded.
     */
    adminUser?: { id?: unknown; role?: unknown; signedInAt?: unknown; sessionEpoch?: unknown };
    /** The protected page an anonymous visitor asked for, kept across sign-in. */
    redirectTo?: string;
  }
}

export interface AdminSessionStoreOptions {
  /** ADMIN_SESSION_IDLE_MINUTES in seconds: the row's `expire` is pushed this far on each request. */
  idleSeconds: number;
  /** Sessions older than this (from sign-in) end, however active. */
  absoluteSeconds?: number;
  now?: () => number;
}

/**
 * Panel sessions in PostgreSQL (`admin_sessions`, created by our migrations, never by the
 * store), so they survive restarts and work across instances.
 *
 * - Idle timeout: the row's `expire` is now + ADMIN_SESSION_IDLE_MINUTES, moved forward on every
 *   request (express-session `rolling` + the store's `touch`); an expired row is never loaded.
 * - Absolute limit: a session signed in more than ADMIN_SESSION_TTL_SECONDS ago is destroyed.
 * - Loading a session re-reads the staff member's system role: a demoted or deleted admin
 *   loses the panel on the next request, and an admin turned support is read-only at once
 *   (`adminUser.role` is what the panel's access checks read).
 * - It also re-reads the user's session epoch: when every session of the user was ended
 *   (password change or reset, "sign out everywhere", MFA switched on, "revoke sessions"),
 *   the epoch moved on and this session ends too. Sessions signed in without one (before the
 *   epoch existed) end as well.
 */
export class AdminSessionStore extends PgStore {
  private readonly absoluteMs: number;
  private readonly now: () => number;

  constructor(
    pool: pg.Pool,
    private readonly staffStandingOf: (id: unknown) => Promise<StaffStanding | null>,
    options: AdminSessionStoreOptions,
  ) {
    const logger = new Logger('AdminSessionStore');
    super({
      pool,
      tableName: 'admin_sessions',
      createTableIfMissing: false,
      ttl: options.idleSeconds,
      pruneSessionInterval: 15 * 60,
      errorLog: (...args: unknown[]) => logger.warn(args.map(String).join(' ')),
    });
    this.absoluteMs = (options.absoluteSeconds ?? ADMIN_SESSION_TTL_SECONDS) * 1000;
    this.now = options.now ?? Date.now;
  }

  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    super.get(sid, (error: unknown, data?: SessionData | null) => {
      const adminUser = data?.adminUser;
      if (error || !data || adminUser === undefined) {
        callback(error, data);
        return;
      }
      const end = (): void =>
        this.destroy(sid, (destroyError: unknown) => callback(destroyError, null));
      const signedInAt = adminUser.signedInAt;
      if (typeof signedInAt !== 'number' || this.now() - signedInAt > this.absoluteMs) {
        end();
        return;
      }
      this.staffStandingOf(adminUser.id).then(
        (standing) => {
          if (standing === null || standing.sessionEpoch !== adminUser.sessionEpoch) {
            end();
            return;
          }
          adminUser.role = standing.role;
          callback(null, data);
        },
        (checkError: unknown) => callback(checkError),
      );
    });
  }
}

/**
 * express-session options for the panel: httpOnly, SameSite=Lax, Secure behind HTTPS; the
 * cookie and the stored row live ADMIN_SESSION_IDLE_MINUTES, renewed by every request.
 */
export function adminSessionOptions(config: AppConfig, store: session.Store): SessionOptions {
  const behindProxy = config.trustProxy !== false;
  return {
    store,
    secret: config.adminSessionSecret,
    name: ADMIN_SESSION_COOKIE,
    resave: false,
    // Each response re-sends the cookie and the store's touch moves `expire` (idle timeout).
    rolling: true,
    saveUninitialized: false,
    // Behind a proxy, trust its X-Forwarded-Proto: the cookie is Secure exactly when the
    // browser reached us over HTTPS. Without TRUST_PROXY the app serves plain HTTP itself.
    proxy: behindProxy ? true : undefined,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: behindProxy ? 'auto' : false,
      path: '/admin',
      maxAge: config.adminSessionIdleMinutes * 60 * 1000,
    },
  };
}
