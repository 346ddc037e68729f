import { expect } from '@jest/globals';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { MIGRATIONS_FOLDER } from '../../src/database/migrate.js';
import { dropDatabase, onServer } from './own-database.js';

/**
 * For a migration's own test: an empty database of the test's own (straight to the server) on
 * which `migrateBefore` builds the schema of the release before that migration, so the test
 * can write rows as that release did and then run the real migrations over them.
 */
export interface ScratchDatabase {
  url: string;
  /** Builds the schema up to, not including, the migration whose tag matches (by name, not
   * number: merges may renumber it) on one connection of `pool`. */
  migrateBefore(pool: pg.Pool, tag: RegExp): Promise<void>;
  drop(): Promise<void>;
}

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

export async function scratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const adminUrl = process.env.NEST_SAAS_TEST_ADMIN_URL;
  if (adminUrl === undefined)
    throw new Error('NEST_SAAS_TEST_ADMIN_URL is set by the global setup');
  const name = `${prefix}_${Date.now()}`;
  await onServer(adminUrl, `create database "${name}"`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const dir = await mkdtemp(join(tmpdir(), 'nest-saas-migrations-'));
  return {
    url: u.toString(),
    async migrateBefore(pool, tag) {
      const client = await pool.connect();
      try {
        await migrate(drizzle({ client }), { migrationsFolder: await migrationsBefore(tag, dir) });
      } finally {
        client.release();
      }
    },
    async drop() {
      await dropDatabase(adminUrl, name);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
