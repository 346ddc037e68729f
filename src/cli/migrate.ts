import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { loadConfigOrExit } from '../config/boot.js';
import { createPool } from '../database/database.connection.js';
import { migrateWithLock } from '../database/migrate.js';
import { resolveDatabase } from '../database/resolve-database.js';

/** `npm run db:migrate`: applies pending migrations to DATABASE_URL, or to the embedded database. */
Logger.overrideLogger(['log', 'warn', 'error', 'fatal']);
const config = loadConfigOrExit();
const { url, embedded } = await resolveDatabase(config);
const pool = createPool(url, { max: 1 });
try {
  await migrateWithLock(pool);
  process.stdout.write('migrations are up to date\n');
} finally {
  await pool.end();
  await embedded?.stop();
}
