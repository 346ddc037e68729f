import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { AppConfig, DatabasePooler } from '../config/app-config.js';
import { BoundedClient } from './bounded-client.js';
import type { Database } from './database.tokens.js';
import * as schema from './schema.js';

/**
 * The app's pool on the database whose URL the boot edge resolved (src/boot/database.ts:
 * started, migrated and seeded before the app is created). Opening it only creates the pool;
 * shutting down closes it after the HTTP server drained. Whoever started an embedded server
 * stops it after the app closed.
 */
const logger = new Logger('Database');

export class DatabaseConnection implements OnModuleInit, OnApplicationShutdown {
  private constructor(
    readonly pool: pg.Pool,
    readonly db: Database,
    /** DB_POOLER: what sits between the pool and PostgreSQL (unset: nothing). */
    readonly pooler: DatabasePooler | undefined,
  ) {}

  static open(config: AppConfig): DatabaseConnection {
    if (config.databaseUrl === undefined) {
      throw new Error(
        'No database URL: the boot edge (prepareDatabase in src/boot/database.ts) resolves it before the app is created',
      );
    }
    const pool = createPool(config.databaseUrl, {
      max: config.databasePoolMax,
      statementTimeoutMs: config.databaseStatementTimeoutMs,
      pooler: config.databasePooler,
    });
    return new DatabaseConnection(pool, drizzle({ client: pool, schema }), config.databasePooler);
  }

  /**
   * Through a pooler, the session settings a direct connection makes itself (see createPool)
   * are the server's defaults: a time zone other than UTC would shift every `now()` default
   * of the schema's timestamps (stored without time zone, in UTC), so the app refuses to
   * start; a statement timeout left unset on the server is only reported.
   */
  async onModuleInit(): Promise<void> {
    if (this.pooler === undefined) return;
    try {
      const { rows } = await this.pool.query<{ tz: string; timeout: string; role: string }>(
        `select current_setting('TimeZone') as tz, current_setting('statement_timeout') as timeout, current_user as role`,
      );
      const session = rows[0];
      if (session === undefined) return;
      if (!UTC_NAMES.has(session.tz.toLowerCase())) {
        throw new Error(
          `DB_POOLER=transaction: sessions through DATABASE_URL run in time zone "${session.tz}", but timestamps are stored in UTC and a pooler does not carry the time zone a direct connection sets: make UTC the default (ALTER DATABASE <name> SET timezone TO 'UTC', or timezone = 'UTC' in postgresql.conf)`,
        );
      }
      if (session.timeout === '0') {
        logger.warn(
          `DB_POOLER=transaction: queries through DATABASE_URL are bounded by DB_STATEMENT_TIMEOUT_MS on the client only (a pooler does not carry the session's statement_timeout); bound them on the server too: ALTER ROLE "${session.role}" SET statement_timeout = '<DB_STATEMENT_TIMEOUT_MS>ms'`,
        );
      }
    } catch (error) {
      await endPool(this.pool);
      throw error;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await endPool(this.pool);
  }
}

/**
 * Ends `pool` and waits (at most `timeoutMs`) until each of its connections has closed.
 * pg-pool's `end()` resolves once it has asked its clients to end, before their connections
 * close; a server stopped right after (the embedded PostgreSQL on Ctrl-C) then still had their
 * backends, terminated them, and each was logged as an "idle PostgreSQL client error".
 */
export async function endPool(pool: pg.Pool, timeoutMs = 5_000): Promise<void> {
  // Every client the pool holds now is removed (its connection closed) after `end()`.
  let open = pool.totalCount;
  const closed = new Promise<void>((resolve) => {
    if (open === 0) resolve();
    pool.on('remove', () => {
      if (--open <= 0) resolve();
    });
  });
  await pool.end();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    closed,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}

/** The names PostgreSQL accepts for UTC (lower-cased). */
const UTC_NAMES = new Set(
  ['UTC', 'UCT', 'Universal', 'Zulu', 'GMT', 'GMT0', 'GMT+0', 'GMT-0', 'Greenwich'].flatMap(
    (name) => [name.toLowerCase(), `etc/${name.toLowerCase()}`],
  ),
);

export interface PoolOptions {
  max: number;
  /**
   * Bounds every query on the server (`statement_timeout`) and on the client (`query_timeout`,
   * for a server that stopped answering), and the wait for a connection. Unset: queries are
   * unbounded (migrations, CLIs) and a connection is awaited up to 10 s.
   */
  statementTimeoutMs?: number;
  /** Shown in pg_stat_activity; default `nest-saas`. */
  applicationName?: string;
  /**
   * `transaction`: the URL is a transaction-mode pooler's. Its clients may send no startup
   * parameter it would refuse or drop (PgBouncer refuses `options` and `statement_timeout`
   * unless told to ignore them): the session's time zone is then the server's default
   * (checked at start, DatabaseConnection) and the statement timeout is the client's only.
   */
  pooler?: DatabasePooler;
}

export function createPool(connectionString: string, options: PoolOptions): pg.Pool {
  const timeout = options.statementTimeoutMs;
  const direct = options.pooler === undefined;
  const pool = new pg.Pool({
    connectionString,
    max: options.max,
    application_name: options.applicationName ?? 'nest-saas',
    // Timestamps are stored without time zone; keep every session in UTC. Unbounded pools
    // (migrations, CLIs) stay unbounded even where the role has a statement_timeout (which a
    // pooled deployment sets on the server, see DatabaseConnection).
    ...(direct
      ? { options: `-c timezone=UTC${timeout === undefined ? ' -c statement_timeout=0' : ''}` }
      : {}),
    // Both the wait for a free pooled client and the opening of a new connection.
    connectionTimeoutMillis: timeout ?? 10_000,
    ...(timeout === undefined
      ? {}
      : {
          ...(direct ? { statement_timeout: timeout } : {}),
          query_timeout: timeout,
          Client: BoundedClient,
        }),
  });
  // An idle client losing its connection (server restart, network) must not crash the process.
  pool.on('error', (error) => logger.warn(`idle PostgreSQL client error: ${error.message}`));
  return pool;
}
