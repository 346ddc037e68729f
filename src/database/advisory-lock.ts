import type { Pool } from 'pg';

/**
 * Runs `run` while holding an advisory lock, so that instances doing the same (starting
 * together) take turns. `key`: a number, or a text that PostgreSQL hashes (`hashtext`), e.g.
 * to lock per schema.
 *
 * The lock is transaction-scoped (`pg_advisory_xact_lock`), held by a transaction left open on
 * a connection of its own while `run` works on the pool's other connections; rolling it back
 * releases the lock, as does that connection's end if the process dies. Nothing of it outlives
 * its transaction, so it holds through a transaction-mode pooler as well (which keeps a client
 * on one server session exactly while a transaction is open), where a session-level lock
 * would be taken on one server session and released on another. `pool` needs 2+ connections.
 */
export async function withAdvisoryLock<T>(
  pool: Pool,
  key: number | string,
  run: () => Promise<T>,
): Promise<T> {
  if ((pool.options.max ?? 10) < 2) {
    throw new Error('withAdvisoryLock needs a pool of at least 2 connections');
  }
  const lockKey = typeof key === 'number' ? '$1::bigint' : 'hashtext($1)';
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('begin');
    // The holder sits idle in its transaction while `run` works: a server-wide idle timeout
    // must not end it (and release the lock) halfway.
    await client.query('set local idle_in_transaction_session_timeout = 0');
    await client.query(`select pg_advisory_xact_lock(${lockKey})`, [key]);
    return await run();
  } finally {
    // Nothing was written on this connection: rolling back only releases the lock.
    await client.query('rollback').catch((error: unknown) => {
      broken = error instanceof Error ? error : new Error(String(error));
    });
    client.release(broken);
  }
}
