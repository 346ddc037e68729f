import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrateDatabase } from '../../src/boot/database.js';

/**
 * A migrated (not seeded) database of one suite's own, on the test server, with a job queue
 * schema of its own: for suites that compare whole tables or count every row, which the
 * shared run database cannot give while other suites write to it in parallel.
 */
export interface OwnDatabase {
  /** The new database's URL for an app's DATABASE_URL: through the run's pooler, if it has one. */
  url: string;
  /** Straight to the server: for DATABASE_DIRECT_URL, migrations and the test's own checks. */
  directUrl: string;
  /** Its JOBS_SCHEMA (installed by the migration). */
  jobsSchema: string;
  /** Drops the database (connections still open are ended). */
  drop(): Promise<void>;
}

/**
 * Drops a test's database. A pool's `end()` resolves before its connections have closed, and
 * `with (force)` would terminate those still closing, which their clients may report as an
 * unhandled error: wait (a bounded while) until no session is left, then drop.
 */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (let i = 0; i < 50; i++) {
      const { rows } = await client.query<{ n: number }>(
        'select count(*)::int as n from pg_stat_activity where datname = $1',
        [name],
      );
      if (rows[0]!.n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await client.query(`drop database if exists "${name}" with (force)`);
  } finally {
    await client.end();
  }
}

/** Runs one statement on a fresh connection (database-level commands: create, drop, alter). */
export async function onServer(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export async function createOwnDatabase(prefix: string): Promise<OwnDatabase> {
  const adminUrl = process.env.NEST_SAAS_TEST_ADMIN_URL;
  if (adminUrl === undefined)
    throw new Error('NEST_SAAS_TEST_ADMIN_URL is set by the global setup');
  const name = `${prefix}_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const jobsSchema = `jobs_${randomBytes(6).toString('hex')}`;
  await onServer(adminUrl, `create database "${name}"`);
  const onDatabase = (serverUrl: string) => {
    const u = new URL(serverUrl);
    u.pathname = `/${name}`;
    return u.toString();
  };
  const directUrl = onDatabase(adminUrl);
  try {
    await migrateDatabase(directUrl, jobsSchema);
  } catch (error) {
    await dropDatabase(adminUrl, name);
    throw error;
  }
  const pooledAdminUrl = process.env.NEST_SAAS_TEST_POOLED_ADMIN_URL;
  return {
    url: pooledAdminUrl === undefined ? directUrl : onDatabase(pooledAdminUrl),
    directUrl,
    jobsSchema,
    drop: () => dropDatabase(adminUrl, name),
  };
}
