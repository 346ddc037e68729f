import { sql, type SQL } from 'drizzle-orm';
import PgBoss from 'pg-boss';
import type pg from 'pg';
import type { DbClient } from '../../database/database.tokens.js';

/** pg-boss's database seam: every statement it runs goes through `executeSql`. */
export type JobQueueDb = PgBoss.Db;

/**
 * pg-boss on our own pool: the app's connections, statement timeout and error handling.
 *
 * Once the pool is closed (shutdown) statements resolve to nothing, as with pg-boss's own
 * closed pool: an attempt that outlived the shutdown bound was already failed and returned to
 * the queue, and pg-boss reports its late outcome without awaiting it, so a rejection here
 * would be an unhandled one.
 */
export function poolDb(pool: pg.Pool): JobQueueDb {
  return {
    executeSql: async (text, values) => {
      if (pool.ending || pool.ended) return undefined as unknown as { rows: unknown[] };
      return pool.query(text, values);
    },
  };
}

/**
 * pg-boss's statement (`$1`-style placeholders) as a Drizzle query, so it can run on a Drizzle
 * transaction (whose pg client Drizzle does not expose). Each placeholder becomes a bound
 * parameter again (Drizzle numbers them anew); a placeholder used twice is bound twice. pg-boss's statements for sending
 * a job hold no `$n` inside string literals (its dollar-quoted function bodies are created by
 * the schema installation, which never runs through here).
 */
export function toDrizzleQuery(text: string, values: readonly unknown[] = []): SQL {
  const chunks: SQL[] = [];
  let last = 0;
  for (const match of text.matchAll(/\$(\d+)/g)) {
    const index = Number(match[1]) - 1;
    if (index < 0 || index >= values.length) {
      throw new Error(`Placeholder ${match[0]} has no value (${values.length} given)`);
    }
    // undefined is SQL null to pg; Drizzle would drop an undefined chunk altogether.
    chunks.push(sql.raw(text.slice(last, match.index)), sql`${sql.param(values[index] ?? null)}`);
    last = match.index + match[0].length;
  }
  chunks.push(sql.raw(text.slice(last)));
  return sql.join(chunks);
}

/** pg-boss on a Drizzle client: the current transaction, so a job commits or rolls back with it. */
export function drizzleDb(client: DbClient): JobQueueDb {
  return {
    executeSql: async (text, values) => {
      const result = await client.execute(toDrizzleQuery(text, values));
      return { rows: result.rows };
    },
  };
}

/**
 * Creates or upgrades the queue's tables in `schema` (pg-boss's own migrations, serialised
 * across instances by its advisory lock). Boot edge only: server.ts, worker-app.ts, the CLIs and
 * the test setup call it through `migrateDatabase`; the app itself only checks the version.
 */
export async function installJobQueue(pool: pg.Pool, schema: string): Promise<void> {
  const boss = new PgBoss({
    db: poolDb(pool),
    schema,
    migrate: true,
    supervise: false,
    schedule: false,
  });
  boss.on('error', () => undefined);
  await boss.start();
  await boss.stop({ graceful: false, close: false });
}
