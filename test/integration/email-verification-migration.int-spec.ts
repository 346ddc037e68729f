import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { MIGRATIONS_FOLDER, migrateWithLock } from '../../src/database/migrate.js';

const adminUrl = process.env.NEST_SAAS_TEST_ADMIN_URL!;
// By its name, not its number: merges with other branches' migrations may renumber it.
const MIGRATION = /^\d+_email_verification$/;

interface Journal {
  entries: { idx: number; tag: string }[];
}

/** A copy of the migrations folder that stops before `tag`: the schema of an older release. */
async function migrationsBefore(tag: RegExp, dir: string): Promise<string> {
  const journal = JSON.parse(
    await readFile(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8'),
  ) as Journal;
  const stop = journal.entries.findIndex((e) => tag.test(e.tag));
  expect(stop).toBeGreaterThan(0);
  const entries = journal.entries.slice(0, stop);
  await mkdir(join(dir, 'meta'), { recursive: true });
  await writeFile(join(dir, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries }));
  for (const e of entries) {
    await copyFile(join(MIGRATIONS_FOLDER, `${e.tag}.sql`), join(dir, `${e.tag}.sql`));
  }
  return dir;
}

describe('the email verification migration', () => {
  const name = `nest_saas_verify_${Date.now()}`;
  let url: string;
  let dir: string;

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database "${name}"`);
    await admin.end();
    const u = new URL(adminUrl);
    u.pathname = `/${name}`;
    url = u.toString();
    dir = await mkdtemp(join(tmpdir(), 'nest-saas-migrations-'));
  });

  afterAll(async () => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves accounts that existed before it unverified, with nothing pending', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    try {
      const client = await pool.connect();
      try {
        await migrate(drizzle({ client }), {
          migrationsFolder: await migrationsBefore(MIGRATION, dir),
        });
      } finally {
        client.release();
      }
      await pool.query(`insert into users (email, password_hash) values ('old@example.test', 'x')`);

      await migrateWithLock(pool);

      const { rows } = await pool.query(
        `select email, email_verified_at, pending_email from users`,
      );
      expect(rows).toEqual([
        { email: 'old@example.test', email_verified_at: null, pending_email: null },
      ]);
      const tokens = await pool.query('select count(*)::int as n from email_verification_tokens');
      expect(tokens.rows[0]).toEqual({ n: 0 });
    } finally {
      await pool.end();
    }
  });
});
