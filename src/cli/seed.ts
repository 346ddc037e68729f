import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { drizzle } from 'drizzle-orm/node-postgres';
import { PasswordHasher } from '../common/crypto/password-hasher.js';
import { loadConfigOrExit } from '../config/boot.js';
import { createPool } from '../database/database.connection.js';
import { migrateWithLock } from '../database/migrate.js';
import { resolveDatabase } from '../database/resolve-database.js';
import * as schema from '../database/schema.js';
import { seedDemoData } from '../database/seed.js';

/**
 * `npm run db:seed`: migrates, then seeds the demo users and team into an empty database
 * (never in production, never over existing data).
 */
Logger.overrideLogger(['log', 'warn', 'error', 'fatal']);
const config = loadConfigOrExit();
if (config.nodeEnv === 'production') {
  process.stderr.write('db:seed refuses to seed demo data with NODE_ENV=production\n');
  process.exit(1);
}
const { url, embedded } = await resolveDatabase(config);
const pool = createPool(url, 2);
try {
  await migrateWithLock(pool);
  const seeded = await seedDemoData(drizzle({ client: pool, schema }), new PasswordHasher());
  process.stdout.write(
    seeded
      ? 'seeded demo data: test@test.com / admin123 (owner of "Test Team"), admin@test.com / admin123 (admin)\n'
      : 'database already has users: demo data not seeded\n',
  );
} finally {
  await pool.end();
  await embedded?.stop();
}
