import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres.js';
import { createPool, endPool } from '../../src/database/database.connection.js';
import { migrateWithLock } from '../../src/database/migrate.js';
import { dropDatabase } from '../support/own-database.js';

const adminUrl = process.env.NEST_SAAS_TEST_ADMIN_URL!;

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe('migrations', () => {
  const name = `nest_saas_migrate_${Date.now()}`;
  let url: string;

  beforeAll(async () => {
    await withClient(adminUrl, (c) => c.query(`create database "${name}"`));
    const u = new URL(adminUrl);
    u.pathname = `/${name}`;
    url = u.toString();
  });

  afterAll(async () => {
    await dropDatabase(adminUrl, name);
  });

  it('two instances migrating at once both succeed and apply each migration once', async () => {
    const pools = [new pg.Pool({ connectionString: url }), new pg.Pool({ connectionString: url })];
    try {
      await Promise.all(pools.map((pool) => migrateWithLock(pool)));
      const applied = await withClient(url, (c) =>
        c.query('select count(*)::int as n from drizzle.__drizzle_migrations'),
      );
      const tables = await withClient(url, (c) =>
        c.query(`select table_name from information_schema.tables where table_schema = 'public'`),
      );
      expect(applied.rows[0].n).toBeGreaterThanOrEqual(1);
      expect(tables.rows.map((r: { table_name: string }) => r.table_name)).toEqual(
        expect.arrayContaining([
          'users',
          'teams',
          'team_members',
          'activity_logs',
          'invitations',
          'sessions',
        ]),
      );
      // Running again is a no-op.
      await migrateWithLock(pools[0]!);
      const again = await withClient(url, (c) =>
        c.query('select count(*)::int as n from drizzle.__drizzle_migrations'),
      );
      expect(again.rows[0].n).toBe(applied.rows[0].n);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });
});

describe('EmbeddedPostgres', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nest-saas-embedded-'));
    await chmod(dir, 0o755);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('initialises once, keeps data across restarts, and refuses a second server on the same data', async () => {
    const dataDir = join(dir, 'pg');
    const first = await EmbeddedPostgres.start({ dataDir });
    try {
      await withClient(first.url(), (c) =>
        c.query('create table kept (v int); insert into kept values (42)'),
      );
      await expect(EmbeddedPostgres.start({ dataDir })).rejects.toThrow(
        /still running on .* \(pid \d+\)/,
      );
    } finally {
      await first.stop();
    }
    const second = await EmbeddedPostgres.start({ dataDir });
    try {
      expect(second.port).toBe(first.port);
      const rows = await withClient(second.url(), (c) => c.query('select v from kept'));
      expect(rows.rows).toEqual([{ v: 42 }]);
    } finally {
      await second.stop();
    }
  });

  it('explains a busy port instead of failing silently', async () => {
    const blocker = await EmbeddedPostgres.start({ dataDir: join(dir, 'a') });
    try {
      await expect(
        EmbeddedPostgres.start({ dataDir: join(dir, 'b'), port: blocker.port }),
      ).rejects.toThrow(`port ${blocker.port} is already in use`);
    } finally {
      await blocker.stop();
    }
  });
});

describe('endPool', () => {
  it('resolves only once every connection of the pool has closed', async () => {
    const pool = createPool(adminUrl, { max: 4 });
    // Four connections, all idle when the pool ends.
    await Promise.all(Array.from({ length: 4 }, () => pool.query('select pg_sleep(0.05)')));
    expect(pool.totalCount).toBe(4);
    // pg-pool emits `remove` for a client once its connection has ended.
    let closed = 0;
    pool.on('remove', () => closed++);
    await endPool(pool);
    // pool.end() alone resolves with none closed yet: a server stopped at that moment (the
    // embedded one on Ctrl-C) terminated their backends, logged as idle client errors.
    expect(closed).toBe(4);
  });

  it('returns at once for a pool that never connected (no wait for its timeout)', async () => {
    const pool = createPool(adminUrl, { max: 1 });
    const outcome = await Promise.race([
      endPool(pool, 60_000).then(() => 'ended'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 2_000)),
    ]);
    expect(outcome).toBe('ended');
    expect(pool.ended).toBe(true);
  });
});
