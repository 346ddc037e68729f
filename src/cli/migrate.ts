import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { migrateDatabase } from '../boot/database.js';
import { loadConfigOrExit } from '../config/boot.js';
import { resolveDatabase } from '../database/resolve-database.js';

/**
 * `npm run db:migrate`: applies pending migrations to DATABASE_DIRECT_URL (default
 * DATABASE_URL), or to the embedded database.
 */
Logger.overrideLogger(['log', 'warn', 'error', 'fatal']);
const config = loadConfigOrExit();
const { directUrl, embedded } = await resolveDatabase(config);
try {
  await migrateDatabase(directUrl, config.jobs.schema, { pooler: config.databaseDirectPooler });
  process.stdout.write('migrations are up to date\n');
} finally {
  await embedded?.stop();
}
