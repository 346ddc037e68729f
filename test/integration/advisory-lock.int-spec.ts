import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { withAdvisoryLock } from '../../src/database/advisory-lock.js';
import { createPool, endPool } from '../../src/database/database.connection.js';
import { pgBouncerAvailable, startPgBouncer, type PgBouncer } from '../support/pgbouncer.js';

const describeWithPgBouncer = pgBouncerAvailable() ? describe : describe.skip;
if (!pgBouncerAvailable()) {
  process.stderr.write(
    'advisory-lock.int-spec: SKIPPED: pgbouncer is not installed (apt-get install -y pgbouncer); with CI=true this suite fails instead\n',
  );
}

/** The run's test database, straight to the server. */
function directTestUrl(): string {
  const url = process.env.DATABASE_DIRECT_URL ?? process.env.DATABASE_URL;
  if (url === undefined) throw new Error('DATABASE_URL is set by the global setup');
  return url;
}

describeWithPgBouncer('withAdvisoryLock through PgBouncer in transaction mode', () => {
  let bouncer: PgBouncer;

  beforeAll(async () => {
    // 3 server connections: two lock holders and the work of the one that got the lock.
    bouncer = await startPgBouncer(directTestUrl(), { poolSize: 3 });
  });

  afterAll(async () => {
    await bouncer?.stop();
  });

  it('lets two instances take turns, and leaves no lock behind on any server session', async () => {
    const key = `advisory-lock-spec:${Date.now()}`;
    const events: string[] = [];
    const instances = ['a', 'b'].map((name) => ({
      name,
      pool: createPool(bouncer.url(directTestUrl()), { max: 2, pooler: 'transaction' }),
    }));
    try {
      for (let round = 0; round < 3; round++) {
        await Promise.all(
          instances.map(({ name, pool }) =>
            withAdvisoryLock(pool, key, async () => {
              events.push(`${name} in`);
              // Work on the pool's other connection, spread over the server sessions.
              for (let i = 0; i < 5; i++) {
                await pool.query('select pg_sleep(0.01)');
                await sleep(1);
              }
              events.push(`${name} out`);
            }),
          ),
        );
      }
      // Never both inside: each "in" is followed by the same instance's "out".
      const pairs = Array.from({ length: events.length / 2 }, (_, i) => [
        events[2 * i],
        events[2 * i + 1],
      ]);
      expect(pairs.every(([entered, left]) => left === entered?.replace(' in', ' out'))).toBe(true);
      expect(events).toHaveLength(12);
      const direct = new pg.Client({ connectionString: directTestUrl() });
      await direct.connect();
      try {
        const { rows } = await direct.query<{ n: number }>(
          `select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = hashtext($1)::oid`,
          [key],
        );
        expect(rows[0]?.n).toBe(0);
      } finally {
        await direct.end();
      }
    } finally {
      await Promise.all(instances.map(({ pool }) => endPool(pool)));
    }
  });
});
