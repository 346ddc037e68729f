// The boot edge of the DB-backed tiers (the integration and e2e projects declare it; the unit
// project does not, so `npm run test:unit` never starts or reaches PostgreSQL). Jest runs a
// global hook once per run even when both projects name it (it de-duplicates by path), and
// only when a test of one of them was selected. Outside Jest's module system (plain ESM), it
// creates a fresh database on DATABASE_URL's server, or on an embedded PostgreSQL in a
// temporary directory, migrates and seeds it with the app's own boot code (like server.ts), and
// hands its URL to the test workers. With DATABASE_DIRECT_URL set too (DATABASE_URL through a
// pooler, DB_POOLER=transaction), the database is created, migrated and seeded on the direct
// server and the workers get both URLs of the new database (the pooler's `*` entry reaches it).
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  const state = {
    embedded: undefined,
    tempDir: undefined,
    adminUrl: undefined,
    /** DATABASE_URL when it differs from the direct server's (a pooler's). */
    pooledUrl: undefined,
    database: undefined,
  };
  globalThis.__NEST_SAAS_TEST__ = state;

  if (process.env.DATABASE_URL) {
    state.adminUrl = process.env.DATABASE_DIRECT_URL || process.env.DATABASE_URL;
    if (state.adminUrl !== process.env.DATABASE_URL) state.pooledUrl = process.env.DATABASE_URL;
  } else {
    const { EmbeddedPostgres } = await tsImport(
      '../../src/database/embedded-postgres.ts',
      import.meta.url,
    );
    state.tempDir = await mkdtemp(join(tmpdir(), 'nest-saas-test-'));
    // mkdtemp makes it private; when we run as root, PostgreSQL runs as `postgres` and must enter it.
    await chmod(state.tempDir, 0o755);
    state.embedded = await EmbeddedPostgres.start({ dataDir: join(state.tempDir, 'pg') });
    state.adminUrl = state.embedded.url();
  }

  state.database = `nest_saas_test_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: state.adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database "${state.database}"`);
  } finally {
    await admin.end();
  }
  const onDatabase = (serverUrl) => {
    const url = new URL(serverUrl);
    url.pathname = `/${state.database}`;
    return url.toString();
  };
  const directUrl = onDatabase(state.adminUrl);

  // Demo data too: the admin suites sign in as the seeded accounts, as on a fresh `npm start`.
  const { migrateDatabase, seedDatabase } = await tsImport(
    '../../src/boot/database.ts',
    import.meta.url,
  );
  await migrateDatabase(directUrl);
  await seedDatabase(directUrl);

  // Read by the app's config in every test worker.
  if (state.pooledUrl) {
    process.env.DATABASE_URL = onDatabase(state.pooledUrl);
    process.env.DATABASE_DIRECT_URL = directUrl;
    process.env.NEST_SAAS_TEST_POOLED_ADMIN_URL = state.pooledUrl;
  } else {
    process.env.DATABASE_URL = directUrl;
    delete process.env.DATABASE_DIRECT_URL;
  }
  process.env.NODE_ENV = 'test';
  process.env.JWT_SECRET ??= randomBytes(32).toString('hex');
  process.env.LOG_LEVEL ??= 'silent';
  process.env.APP_URL ??= 'http://app.test';
  // Every suite signs up many users from 127.0.0.1; the rate-limit suites set low limits themselves.
  process.env.RATE_LIMIT_PER_IP ??= '100000';
  process.env.RATE_LIMIT_PER_EMAIL ??= '100000';
  // Likewise for invitation mails (invitation-mail.e2e-spec.ts sets low ones).
  process.env.INVITATION_RATE_LIMIT_PER_INVITER ??= '100000';
  process.env.INVITATION_RATE_LIMIT_PER_TEAM ??= '100000';
  process.env.INVITATION_RATE_LIMIT_PER_RECIPIENT ??= '100000';
  process.env.RATE_LIMIT_TOKEN_PER_IP ??= '100000';
  // Suites that lower RATE_LIMIT_PER_EMAIL must not wait out the sign-in slowdown (0: off).
  process.env.RATE_LIMIT_SLOWDOWN_MAX_MS ??= '0';
  // Suites rename one team many times; the webhook rate-limit test sets a low limit itself.
  process.env.WEBHOOKS_EVENT_RATE_LIMIT ??= '100000';
  for (const name of [
    'STRIPE_SECRET_KEY',
    'STRIPE_WEBHOOK_SECRET',
    'STRIPE_API_URL',
    'SMTP_URL',
    'REDIS_URL',
    'TRUST_PROXY',
  ]) {
    // Suites that need these configure them explicitly; a developer's shell must not leak in.
    if (!process.env.NEST_SAAS_TEST_KEEP_ENV) delete process.env[name];
  }
  process.env.NEST_SAAS_TEST_ADMIN_URL = state.adminUrl;
}

export async function dropTestDatabase(state) {
  if (state.adminUrl && state.database) {
    const admin = new pg.Client({ connectionString: state.adminUrl });
    await admin.connect();
    try {
      await admin.query(`drop database if exists "${state.database}" with (force)`);
    } finally {
      await admin.end();
    }
  }
  await state.embedded?.stop();
  if (state.tempDir) await rm(state.tempDir, { recursive: true, force: true });
}
