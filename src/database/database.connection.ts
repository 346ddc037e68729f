import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { AppConfig } from '../config/app-config.js';
import type { PasswordHasher } from '../common/crypto/password-hasher.js';
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
    const pool = createPool(url, config.databasePoolMax);
    try {
      await migrateWithLock(pool);
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

export function createPool(connectionString: string, max: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    application_name: 'nest-saas',
    // Timestamps are stored without time zone; keep every session in UTC.
    options: '-c timezone=UTC',
    connectionTimeoutMillis: 10_000,
  });
  // An idle client losing its connection (server restart, network) must not crash the process.
  pool.on('error', (error) => logger.warn(`idle PostgreSQL client error: ${error.message}`));
  return pool;
}
