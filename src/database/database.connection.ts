import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { AppConfig } from '../config/app-config.js';
import type { PasswordHasher } from '../common/crypto/password-hasher.js';
import { BoundedClient } from './bounded-client.js';
import type { Database } from './database.tokens.js';
import type { EmbeddedPostgres } from './embedded-postgres.js';
import { migrateWithLock } from './migrate.js';
import { resolveDatabase } from './resolve-database.js';
import * as schema from './schema.js';
import { seedDemoData } from './seed.js';

/**
 * The app's connection to PostgreSQL: the configured server, or an embedded one when
 * DATABASE_URL is unset. Opening it migrates (and seeds demo data outside production);
 * shutting down closes the pool after the HTTP server drained, then stops the embedded server.
 */
const logger = new Logger('Database');

export class DatabaseConnection implements OnApplicationShutdown {
  private constructor(
    readonly pool: pg.Pool,
    readonly db: Database,
    private readonly embedded: EmbeddedPostgres | undefined,
  ) {}

  static async open(config: AppConfig, hasher: PasswordHasher): Promise<DatabaseConnection> {
    const { url, embedded } = await resolveDatabase(config, logger);
    // Migrations (and the wait for another instance's migration lock) are not bounded by
    // the per-request statement timeout: they run on a connection of their own.
    const migrationPool = createPool(url, { max: 1 });
    try {
      await migrateWithLock(migrationPool);
      await migrationPool.end();
    } catch (error) {
      await migrationPool.end().catch(() => undefined);
      await embedded?.stop();
      throw error;
    }
    const pool = createPool(url, {
      max: config.databasePoolMax,
      statementTimeoutMs: config.databaseStatementTimeoutMs,
    });
    try {
      const db = drizzle({ client: pool, schema });
      if (config.nodeEnv !== 'production' && (await seedDemoData(db, hasher))) {
        logger.log(
          'seeded demo data: test@test.com / admin123 (owner of "Test Team"), admin@test.com / admin123 (admin)',
        );
      }
      return new DatabaseConnection(pool, db, embedded);
    } catch (error) {
      await pool.end().catch(() => undefined);
      await embedded?.stop();
      throw error;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
    await this.embedded?.stop();
  }
}

export interface PoolOptions {
  max: number;
  /**
   * Bounds every query on the server (`statement_timeout`) and on the client (`query_timeout`,
   * for a server that stopped answering), and the wait for a connection. Unset: queries are
   * unbounded (migrations, CLIs) and a connection is awaited up to 10 s.
   */
  statementTimeoutMs?: number;
}

export function createPool(connectionString: string, options: PoolOptions): pg.Pool {
  const timeout = options.statementTimeoutMs;
  const pool = new pg.Pool({
    connectionString,
    max: options.max,
    application_name: 'nest-saas',
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
