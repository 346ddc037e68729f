import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { AppConfig } from '../config/app-config.js';
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

export class DatabaseConnection implements OnApplicationShutdown {
  private constructor(
    readonly pool: pg.Pool,
    readonly db: Database,
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
    });
    return new DatabaseConnection(pool, drizzle({ client: pool, schema }));
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
}

export function createPool(connectionString: string, options: PoolOptions): pg.Pool {
  const timeout = options.statementTimeoutMs;
  const pool = new pg.Pool({
    connectionString,
    max: options.max,
    application_name: options.applicationName ?? 'nest-saas',
    // Timestamps are stored without time zone; keep every session in UTC.
    options: '-c timezone=UTC',
    // Both the wait for a free pooled client and the opening of a new connection.
    connectionTimeoutMillis: timeout ?? 10_000,
    ...(timeout === undefined
      ? {}
      : { statement_timeout: timeout, query_timeout: timeout, Client: BoundedClient }),
  });
  // An idle client losing its connection (server restart, network) must not crash the process.
  pool.on('error', (error) => logger.warn(`idle PostgreSQL client error: ${error.message}`));
  return pool;
}
