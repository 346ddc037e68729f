import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { migrateWithLock } from '../../src/database/migrate.js';
import { scratchDatabase, type ScratchDatabase } from '../support/old-schema.js';

// By its name, not its number: merges with other branches' migrations may renumber it.
const MIGRATION = /^\d+_webhook_created_by$/;

/**
 * Endpoints made before webhook_endpoints.created_by existed get their creator from the
 * CREATE_WEBHOOK row written in the same transaction (same team, same transaction time), so a
 * password reset can find the ones an unverified account set up (issue 28, item 4).
 */
describe('the webhook created_by migration', () => {
  let db: ScratchDatabase;

  beforeAll(async () => {
    db = await scratchDatabase('nest_saas_hook_by');
  });

  afterAll(async () => {
    await db.drop();
  });

  it('names the creator of existing endpoints from their CREATE_WEBHOOK rows', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      await db.migrateBefore(pool, MIGRATION);
      const client = await pool.connect();
      let ids: { alice: number; bob: number; byAlice: number; byBob: number };
      let byBobElsewhere: number;
      let unknown: number;
      try {
        const one = async (sql: string, params: unknown[] = []) =>
          ((await client.query(sql, params)).rows[0] as { id: number }).id;
        const alice = await one(
          `insert into users (email, password_hash) values ('alice@example.test', 'x') returning id`,
        );
        const bob = await one(
          `insert into users (email, password_hash) values ('bob@example.test', 'x') returning id`,
        );
        const team = await one(`insert into teams (name) values ('T') returning id`);
        const other = await one(`insert into teams (name) values ('U') returning id`);
        const endpoint = (teamId: number) =>
          one(
            `insert into webhook_endpoints (team_id, url, events, secret)
             values ($1, 'https://hooks.example.test', '{team.updated}', 's') returning id`,
            [teamId],
          );
        // As WebhooksService.create wrote them: endpoint and activity row in one transaction.
        const created = async (teamId: number, userId: number) => {
          await client.query('begin');
          const id = await endpoint(teamId);
          await client.query(
            `insert into activity_logs (team_id, user_id, action) values ($1, $2, 'CREATE_WEBHOOK')`,
            [teamId, userId],
          );
          await client.query('commit');
          return id;
        };
        ids = { alice, bob, byAlice: await created(team, alice), byBob: await created(team, bob) };
        byBobElsewhere = await created(other, bob);
        // No activity row of its own (made another way): the creator stays unknown.
        unknown = await endpoint(team);
      } finally {
        client.release();
      }

      await migrateWithLock(pool);

      const { rows } = await pool.query('select id, created_by from webhook_endpoints order by id');
      expect(rows).toEqual([
        { id: ids.byAlice, created_by: ids.alice },
        { id: ids.byBob, created_by: ids.bob },
        { id: byBobElsewhere, created_by: ids.bob },
        { id: unknown, created_by: null },
      ]);
    } finally {
      await pool.end();
    }
  });
});
