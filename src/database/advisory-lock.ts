import type { Pool, PoolClient } from 'pg';

/**
 * Runs `run` while holding a session-level advisory lock on a connection of its own, so that
 * instances doing the same (starting together) take turns. `key`: a number, or a text that
 * PostgreSQL hashes (`hashtext`), e.g. to lock per schema.
 */
export async function withAdvisoryLock<T>(
  pool: Pool,
  key: number | string,
  run: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const lockKey = typeof key === 'number' ? '$1::bigint' : 'hashtext($1)';
  const client = await pool.connect();
  try {
    await client.query(`select pg_advisory_lock(${lockKey})`, [key]);
    try {
      return await run(client);
    } finally {
      await client.query(`select pg_advisory_unlock(${lockKey})`, [key]);
    }
  } finally {
    client.release();
  }
}
