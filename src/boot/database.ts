import { Logger } from '@nestjs/common';
import { drizzle } from 'drizzle-orm/node-postgres';
import { PasswordHasher } from '../common/crypto/password-hasher.js';
import type { AppConfig, DatabasePooler } from '../config/app-config.js';
import { createPool } from '../database/database.connection.js';
import { migrateWithLock } from '../database/migrate.js';
import { resolveDatabase, type DatabaseLog } from '../database/resolve-database.js';
import * as schema from '../database/schema.js';
import { seedDemoData, type Hasher } from '../database/seed.js';
import { installJobQueue } from '../modules/jobs/job-queue.js';

/** A database ready for the app: migrated (and seeded outside production). */
export interface PreparedDatabase {
  /** The app's pool: DATABASE_URL (maybe through a pooler), or the embedded server. */
  url: string;
  /** Straight to the server: DATABASE_DIRECT_URL (default DATABASE_URL), or the embedded server. */
  directUrl: string;
  /** Stops the embedded server, if one was started; call it after every pool is closed. */
  stop(): Promise<void>;
}

export interface PrepareOptions {
  /** Seed demo data into an empty database (default: outside production). */
  seed?: boolean;
  logger?: DatabaseLog;
}

export const DEMO_SEEDED_MESSAGE =
  'seeded demo data: test@test.com / admin123 (owner of "Test Team"), admin@test.com / admin123 (admin)';

/**
 * The boot edge of the database: resolves it (DATABASE_URL, else the embedded PostgreSQL,
 * started and initialised on first use), migrates it under the advisory lock and seeds demo
 * data into an empty database outside production, all on the direct connection
 * (DATABASE_DIRECT_URL, default DATABASE_URL). The app itself only opens pools on the URLs
 * this returns. server.ts and the CLIs call it before anything else.
 */
export async function prepareDatabase(
  config: AppConfig,
  options: PrepareOptions = {},
): Promise<PreparedDatabase> {
  const logger = options.logger ?? new Logger('Database');
  const { url, directUrl, embedded } = await resolveDatabase(config, logger);
  const stop = async (): Promise<void> => {
    await embedded?.stop();
  };
  try {
    const pooler = config.databaseDirectPooler;
    await migrateDatabase(directUrl, config.jobs.schema, { pooler });
    if (
      (options.seed ?? config.nodeEnv !== 'production') &&
      (await seedDatabase(directUrl, undefined, { pooler }))
    ) {
      logger.log(DEMO_SEEDED_MESSAGE);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, directUrl, stop };
}

/** What sits in front of the boot edge's URL (the direct one, unless it defaults to a pooler's). */
export interface BootConnectionOptions {
  pooler?: DatabasePooler;
}

/**
 * Applies pending migrations on connections of their own to `url` (one holds the migration
 * lock, one migrates): migrations (and the wait for another instance's migration lock) are
 * not bounded by the per-request statement timeout. Then installs or upgrades the job queue's
 * tables in `jobsSchema` (JOBS_SCHEMA; pg-boss's own migrations under its own advisory lock).
 */
export async function migrateDatabase(
  url: string,
  jobsSchema = 'pgboss',
  options: BootConnectionOptions = {},
): Promise<void> {
  const pool = createPool(url, { max: 2, pooler: options.pooler });
  try {
    await migrateWithLock(pool);
    await installJobQueue(pool, jobsSchema);
  } finally {
    await pool.end();
  }
}

/** Seeds the demo accounts into an empty database; returns whether it seeded. */
export async function seedDatabase(
  url: string,
  hasher: Hasher = new PasswordHasher(),
  options: BootConnectionOptions = {},
): Promise<boolean> {
  const pool = createPool(url, { max: 2, pooler: options.pooler });
  try {
    return await seedDemoData(drizzle({ client: pool, schema }), hasher);
  } finally {
    await pool.end();
  }
}

/** The configuration the app runs with: the boot-time config, on the prepared database. */
export function withDatabaseUrl(
  config: AppConfig,
  database: Pick<PreparedDatabase, 'url' | 'directUrl'>,
): AppConfig {
  return Object.freeze({
    ...config,
    databaseUrl: database.url,
    databaseDirectUrl: database.directUrl,
  });
}
