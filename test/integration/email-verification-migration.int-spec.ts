import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { migrateWithLock } from '../../src/database/migrate.js';
import { scratchDatabase, type ScratchDatabase } from '../support/old-schema.js';

// By its name, not its number: merges with other branches' migrations may renumber it.
const MIGRATION = /^\d+_email_verification$/;

describe('the email verification migration', () => {
  let db: ScratchDatabase;

  beforeAll(async () => {
    db = await scratchDatabase('nest_saas_verify');
  });

  afterAll(async () => {
    await db.drop();
  });

  it('leaves accounts that existed before it unverified, with nothing pending', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      await db.migrateBefore(pool, MIGRATION);
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
