import type { FastifySessionOptions } from '@fastify/session';
import fastifySession from '@fastify/session';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import connectPgSimple from 'connect-pg-simple';
import type { Session } from 'fastify';
import type pg from 'pg';
import { AppConfig } from '../../config/app-config.js';
import { PG_POOL } from '../../database/database.tokens.js';
import { AdminAuthService, type StaffStanding } from './admin-auth.service.js';

export const ADMIN_SESSION_COOKIE = 'nest_saas_admin';
/** Absolute lifetime of a panel session from sign-in, however active it is. */
export const ADMIN_SESSION_TTL_SECONDS = 8 * 60 * 60;

declare module 'fastify' {
  interface Session {
    /**
     * Set by AdminJS at sign-in (what AdminAuthService.authenticate returned). `role` is
     * refreshed from users.role each time the session is loaded.
     */
    adminUser?: { id?: unknown; role?: unknown; signedInAt?: unknown; sessionEpoch?: unknown };
    /** The protected page an anonymous visitor asked for, kept across sign-in. */
    redirectTo?: string;
  }
}

/**
 * connect-pg-simple is written against express-session's Store class; @fastify/session exports
 * the same callback contract (get/set/destroy, an EventEmitter), which it documents as
 * compatible with express-session stores.
 */
const PgStore = connectPgSimple(
  fastifySession as unknown as Parameters<typeof connectPgSimple>[0],
) as unknown as new (options: connectPgSimple.PGStoreOptions) => PgStoreBase;

type SessionCallback = (err: unknown, session?: Session | null) => void;

interface PgStoreBase {
  get(sid: string, callback: SessionCallback): void;
  set(sid: string, session: Session, callback: (err?: unknown) => void): void;
  destroy(sid: string, callback: (err?: unknown) => void): void;
  close(): Promise<void>;
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
 * - Idle timeout: the row's `expire` is the cookie's expiry, now + ADMIN_SESSION_IDLE_MINUTES,
 *   written again on every response (@fastify/session's `rolling` saves the session each
 *   time); an expired row is never loaded.
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

  override get(sid: string, callback: SessionCallback): void {
    super.get(sid, (error: unknown, data?: Session | null) => {
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
 * @fastify/session options for the panel: httpOnly, SameSite=Lax, Secure exactly when the
 * browser reached us over HTTPS (the panel's Fastify trusts X-Forwarded-Proto as TRUST_PROXY
 * says); the cookie and the stored row live ADMIN_SESSION_IDLE_MINUTES, renewed by every
 * response. The `s:` prefix is express-session's cookie format (same signature scheme), so
 * sessions signed in before the panel moved from Express to Fastify stay signed in.
 */
export function adminSessionOptions(
  config: AppConfig,
  store: AdminSessionStore,
): Omit<FastifySessionOptions, 'secret' | 'cookieName'> {
  return {
    store,
    // Each response re-sends the cookie and saves the row with its new expiry (idle timeout).
    rolling: true,
    saveUninitialized: false,
    cookiePrefix: 's:',
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: config.trustProxy !== false ? 'auto' : false,
      path: '/admin',
      maxAge: config.adminSessionIdleMinutes * 60 * 1000,
    },
  };
}

/** The PostgreSQL session store, closed (prune timer stopped) before the pool shuts down. */
@Injectable()
export class AdminSessions implements OnModuleDestroy {
  readonly store: AdminSessionStore;

  constructor(@Inject(PG_POOL) pool: pg.Pool, auth: AdminAuthService, config: AppConfig) {
    this.store = new AdminSessionStore(pool, (id) => auth.staffStandingOf(id), {
      idleSeconds: config.adminSessionIdleMinutes * 60,
    });
  }

  onModuleDestroy(): void {
    void this.store.close();
  }
}
