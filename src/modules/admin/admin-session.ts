import { Logger } from '@nestjs/common';
import connectPgSimple from 'connect-pg-simple';
import session, { type SessionData, type SessionOptions } from 'express-session';
import type pg from 'pg';
import type { AppConfig } from '../../config/app-config.js';

export const ADMIN_SESSION_COOKIE = 'nest_saas_admin';
export const ADMIN_SESSION_TTL_SECONDS = 8 * 60 * 60;

const PgStore = connectPgSimple(session);

declare module 'express-session' {
  interface SessionData {
    /** Set by AdminJS at sign-in (what AdminAuthService.authenticate returned). */
    adminUser?: { id?: unknown };
    /** The protected page an anonymous visitor asked for, kept across sign-in. */
    redirectTo?: string;
  }
}

/**
 * Panel sessions in PostgreSQL (`admin_sessions`, created by our migrations, never by the
 * store), so they survive restarts and work across instances. Loading a session re-checks
 * that its admin is still an active admin: demoting or deleting an admin ends their panel
 * sessions on the next request, with no extra middleware in AdminJS's router.
 */
export class AdminSessionStore extends PgStore {
  constructor(
    pool: pg.Pool,
    private readonly isActiveAdmin: (id: unknown) => Promise<boolean>,
  ) {
    const logger = new Logger('AdminSessionStore');
    super({
      pool,
      tableName: 'admin_sessions',
      createTableIfMissing: false,
      ttl: ADMIN_SESSION_TTL_SECONDS,
      pruneSessionInterval: 15 * 60,
      errorLog: (...args: unknown[]) => logger.warn(args.map(String).join(' ')),
    });
  }

  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    super.get(sid, (error: unknown, data?: SessionData | null) => {
      const adminUser = data?.adminUser;
      if (error || !data || adminUser === undefined) {
        callback(error, data);
        return;
      }
      this.isActiveAdmin(adminUser.id).then(
        (active) => {
          if (active) callback(null, data);
          else this.destroy(sid, (destroyError: unknown) => callback(destroyError, null));
        },
        (checkError: unknown) => callback(checkError),
      );
    });
  }
}

/** express-session options for the panel: httpOnly, SameSite=Lax, Secure behind HTTPS. */
export function adminSessionOptions(config: AppConfig, store: session.Store): SessionOptions {
  const behindProxy = config.trustProxy !== false;
  return {
    store,
    secret: config.adminSessionSecret,
    name: ADMIN_SESSION_COOKIE,
    resave: false,
    saveUninitialized: false,
    // Behind a proxy, trust its X-Forwarded-Proto: the cookie is Secure exactly when the
    // browser reached us over HTTPS. Without TRUST_PROXY the app serves plain HTTP itself.
    proxy: behindProxy ? true : undefined,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: behindProxy ? 'auto' : false,
      path: '/admin',
      maxAge: ADMIN_SESSION_TTL_SECONDS * 1000,
    },
  };
}
