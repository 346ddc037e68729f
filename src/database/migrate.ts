import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { fileURLToPath } from 'node:url';
import type { Pool } from 'pg';
import { withAdvisoryLock } from './advisory-lock.js';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

/** Any constant works; it only has to be the same for every instance of this app. */
const MIGRATION_LOCK_KEY = 7_261_354_021;

/**
 * Applies pending migrations while holding the migration lock (withAdvisoryLock: one of the
 * pool's connections holds it, the migrations run on another), so instances that start
 * together run them one after the other (the second finds nothing left to do). `pool` needs
 * 2+ connections.
 */
export async function migrateWithLock(pool: Pool): Promise<void> {
  await withAdvisoryLock(pool, MIGRATION_LOCK_KEY, () =>
    migrate(drizzle({ client: pool }), { migrationsFolder: MIGRATIONS_FOLDER }),
  );
}
