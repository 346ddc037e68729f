import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import argon2 from 'argon2';
import { parse } from 'csv-parse/sync';
import { sql } from 'drizzle-orm';
import type pg from 'pg';
import supertest from 'supertest';
import { PG_POOL } from '../../src/database/database.tokens.js';
import { EXPORT_BATCH_SIZE } from '../../src/modules/admin/admin-export.js';
import { createTestApp, textBody, type TestApp } from '../support/app.js';
import { createOwnDatabase, type OwnDatabase } from '../support/own-database.js';

/**
 * The back office's dashboard figures and CSV exports, on a database of this suite's own
 * (migrated, not seeded): every row in it is placed here, so every aggregate is exact.
 */
const DAY = 24 * 60 * 60 * 1000;
const PASSWORD = 'dashboard-admin-1';

type Agent = ReturnType<typeof supertest.agent>;

/** Noon UTC `daysAgo` days before today (as the SQL literal of a `timestamp`). */
function at(daysAgo: number): string {
  const now = new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(today - daysAgo * DAY + 12 * 60 * 60 * 1000).toISOString();
}

function dayString(daysAgo: number): string {
  return at(daysAgo).slice(0, 10);
}

function rowsOf(csv: string): Record<string, string>[] {
  return parse<Record<string, string>>(csv, { columns: true, skip_empty_lines: true });
}

describe('back-office dashboard and CSV exports', () => {
  let database: OwnDatabase | undefined;
  let t: TestApp;
  let agent: Agent;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    database = await createOwnDatabase('nest_saas_dash');
    t = await createTestApp({
      env: {
        DATABASE_URL: database.url,
        DATABASE_DIRECT_URL: database.directUrl,
        JOBS_SCHEMA: database.jobsSchema,
      },
    });

    const hash = await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 19_456 });
    const insertUser = async (email: string, createdAt: string) => {
      const result = await t.db.execute<{ id: number }>(sql`
        insert into users (email, password_hash, role, name, created_at, deleted_at)
        values (${email}, ${hash}, ${email.startsWith('admin') ? 'admin' : 'member'},
                ${email.split('@')[0]}, ${createdAt}::timestamp, null)
        returning id`);
      return result.rows[0]!.id;
    };
    ids.admin = await insertUser('admin@dash.test', at(45));
    ids.u1 = await insertUser('ann@dash.test', at(2));
    ids.u2 = await insertUser('bob@dash.test', at(2));
    ids.u3 = await insertUser('carl@dash.test', at(5));
    await t.db.execute(sql`update users set deleted_at = now() where id = ${ids.u3}`);
    ids.u4 = await insertUser('dora@dash.test', at(31));
    ids.u5 = await insertUser('eve@dash.test', at(29));
    // Text that CSV and spreadsheets must not misread.
    await t.db.execute(sql`update users set name = ${'=HYPERLINK("http://evil.test")'}
      where id = ${ids.u1}`);
    await t.db.execute(sql`update users set name = ${'Doe, "Bob"\nsecond line'}
      where id = ${ids.u2}`);

    const team = async (name: string, plan: string | null, status: string | null) => {
      const result = await t.db.execute<{ id: number }>(sql`
        insert into teams (name, plan_name, subscription_status, stripe_customer_id)
        values (${name}, ${plan}, ${status}, ${`cus_${name}`}) returning id`);
      return result.rows[0]!.id;
    };
    ids.t1 = await team('alpha', 'Pro', 'active');
    ids.t2 = await team('beta', 'Pro', 'trialing');
    ids.t3 = await team('gamma', null, null);

    const activity = (teamId: number, daysAgo: number, action = 'SIGN_IN') =>
      t.db.execute(sql`insert into activity_logs (team_id, user_id, action, "timestamp")
        values (${teamId}, ${ids.u1}, ${action}, ${at(daysAgo)}::timestamp)`);
    await activity(ids.t1, 2);
    await activity(ids.t1, 2, '+SUM(A1)');
    await activity(ids.t1, 2);
    await activity(ids.t2, 2);
    await activity(ids.t1, 7);
    await activity(ids.t3, 40);

    const invite = (email: string, daysAgo: number, status: string) =>
      t.db
        .execute(sql`insert into invitations (team_id, email, role, invited_by, invited_at, status)
        values (${ids.t1}, ${email}, 'member', ${ids.u1}, ${at(daysAgo)}::timestamp, ${status})`);
    await invite('i1@dash.test', 3, 'accepted');
    await invite('i2@dash.test', 3, 'pending');
    await invite('i3@dash.test', 3, 'revoked');
    await invite('i4@dash.test', 9, 'accepted');
    await invite('i5@dash.test', 33, 'accepted');

    const endpoint = await t.db.execute<{ id: number }>(sql`
      insert into webhook_endpoints (team_id, url, events, secret)
      values (${ids.t1}, 'https://hooks.dash.test/x', '{member.added}', 'sealed') returning id`);
    await t.db.execute(sql`insert into webhook_events (id, team_id, type, payload)
      values ('evt_dash', ${ids.t1}, 'member.added', '{}')`);
    const delivery = (status: string, daysAgo: number) =>
      t.db.execute(sql`insert into webhook_deliveries (endpoint_id, event_id, status, updated_at)
        values (${endpoint.rows[0]!.id}, 'evt_dash', ${status}, ${at(daysAgo)}::timestamp)`);
    await delivery('failed', 1);
    await delivery('failed', 1);
    await delivery('succeeded', 1);
    await delivery('failed', 35);

    agent = supertest.agent(t.app.getHttpServer());
    const login = await agent
      .post('/admin/login')
      .type('form')
      .send({ email: 'admin@dash.test', password: PASSWORD });
    expect(login.status).toBe(302);
    expect(login.headers.location).toBe('/admin');
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  describe('dashboard data (GET /admin/api/dashboard)', () => {
    it('answers 30 UTC days of aggregates, days without rows as zeros', async () => {
      const res = await agent.get('/admin/api/dashboard').expect(200);
      const daily = res.body.charts.daily as Record<string, unknown>[];
      expect(daily).toHaveLength(30);
      expect(daily[0]!.day).toBe(dayString(29));
      expect(daily[29]!.day).toBe(dayString(0));

      const expected: Record<string, Record<string, number>> = {
        [dayString(29)]: { signUps: 1 },
        [dayString(9)]: { invitationsSent: 1, invitationsAccepted: 1 },
        [dayString(7)]: { activeTeams: 1 },
        [dayString(5)]: { signUps: 1 },
        [dayString(3)]: { invitationsSent: 3, invitationsAccepted: 1 },
        [dayString(2)]: { signUps: 2, activeTeams: 2 },
        [dayString(1)]: { failedDeliveries: 2 },
      };
      for (const row of daily) {
        expect(row).toEqual({
          day: row.day,
          signUps: 0,
          activeTeams: 0,
          invitationsSent: 0,
          invitationsAccepted: 0,
          failedDeliveries: 0,
          ...expected[row.day as string],
        });
      }
    });

    it('counts teams by plan and by subscription status (null = none)', async () => {
      const res = await agent.get('/admin/api/dashboard').expect(200);
      expect(res.body.charts.teamsByPlan).toEqual([
        { key: 'Pro', count: 2 },
        { key: null, count: 1 },
      ]);
      expect(res.body.charts.teamsBySubscriptionStatus).toEqual(
        expect.arrayContaining([
          { key: 'active', count: 1 },
          { key: 'trialing', count: 1 },
          { key: null, count: 1 },
        ]),
      );
      expect(res.body.charts.teamsBySubscriptionStatus).toHaveLength(3);
    });

    it("keeps the key numbers and reports the job queue's jobs by queue and state", async () => {
      const res = await agent.get('/admin/api/dashboard').expect(200);
      expect(res.body).toMatchObject({
        users: 5,
        deletedUsers: 1,
        admins: 1,
        teams: 3,
        subscribedTeams: 2,
        pendingInvitations: 1,
      });
      const jobs = await t.db.execute<{ queue: string; state: string; count: number }>(
        sql.raw(`select name as queue, state::text as state, count(*)::int as count
                   from "${database!.jobsSchema}".job group by 1, 2`),
      );
      const byKey = (rows: { queue: string; state: string }[]) =>
        [...rows].sort((a, b) => `${a.queue}/${a.state}`.localeCompare(`${b.queue}/${b.state}`));
      expect(byKey(res.body.charts.jobs)).toEqual(byKey(jobs.rows));
    });

    it('is not served to anonymous visitors', async () => {
      const res = await supertest(t.app.getHttpServer()).get('/admin/api/dashboard');
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe('/admin/login');
    });
  });

  describe('CSV exports (GET /admin/api/resources/:id/actions/exportCsv)', () => {
    it('exports the users the list filter selects, escaped, defused, without secrets', async () => {
      const res = await agent
        .get('/admin/api/resources/users/actions/exportCsv')
        .query({ 'filters.email': 'b' })
        .buffer(true)
        .parse(textBody)
        .expect(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).toMatch(
        /^attachment; filename="users-[\dTZ-]+\.csv"$/,
      );
      const text = res.body as string;
      expect(text.split('\r\n')[0]).toBe(
        'id,email,name,role,emailVerifiedAt,mfaEnabledAt,createdAt,updatedAt,deletedAt',
      );
      expect(text).not.toMatch(/password|argon2|\$argon/i);
      // ILIKE '%b%' on email: bob@dash.test only (the list's own filter semantics).
      const rows = rowsOf(text);
      expect(rows).toEqual([
        expect.objectContaining({
          id: String(ids.u2),
          email: 'bob@dash.test',
          name: 'Doe, "Bob"\nsecond line',
          role: 'member',
          deletedAt: '',
        }),
      ]);
      expect(text).toContain('"Doe, ""Bob""\nsecond line"');
      expect(rows[0]!.createdAt).toBe(at(2));
    });

    it('prefixes cells that a spreadsheet would run as a formula', async () => {
      const res = await agent
        .get('/admin/api/resources/users/actions/exportCsv')
        .query({ 'filters.email': 'ann@' })
        .expect(200);
      const rows = rowsOf(res.text);
      expect(rows.map((r) => r.name)).toEqual(['\'=HYPERLINK("http://evil.test")']);

      const activity = await agent
        .get('/admin/api/resources/activity_logs/actions/exportCsv')
        .query({ 'filters.teamId': String(ids.t1) })
        .expect(200);
      const logs = rowsOf(activity.text);
      expect(logs).toHaveLength(4);
      expect(logs.every((r) => r.teamId === String(ids.t1))).toBe(true);
      expect(logs.map((r) => r.action).sort()).toEqual(
        ["'+SUM(A1)", 'SIGN_IN', 'SIGN_IN', 'SIGN_IN'].sort(),
      );
      // Newest first, like the list.
      expect(logs.map((r) => Number(r.id))).toEqual(
        [...logs.map((r) => Number(r.id))].sort((a, b) => b - a),
      );
    });

    it('exports teams by an exact subscription status and a date range', async () => {
      const res = await agent
        .get('/admin/api/resources/teams/actions/exportCsv')
        .query({ 'filters.subscriptionStatus': 'active' })
        .expect(200);
      expect(rowsOf(res.text).map((r) => [r.name, r.planName, r.stripeCustomerId])).toEqual([
        ['alpha', 'Pro', 'cus_alpha'],
      ]);

      const ranged = await agent
        .get('/admin/api/resources/activity_logs/actions/exportCsv')
        .query({ 'filters.timestamp~~from': at(8), 'filters.timestamp~~to': at(6) })
        .expect(200);
      expect(rowsOf(ranged.text).map((r) => r.timestamp)).toEqual([at(7)]);
    });

    it('answers only the header line when nothing matches', async () => {
      const res = await agent
        .get('/admin/api/resources/users/actions/exportCsv')
        .query({ 'filters.email': 'nobody-matches-this' })
        .expect(200);
      expect(res.text).toBe(
        'id,email,name,role,emailVerifiedAt,mfaEnabledAt,createdAt,updatedAt,deletedAt\r\n',
      );
    });

    it('sends anonymous visitors to the login page, with no data', async () => {
      const res = await supertest(t.app.getHttpServer()).get(
        '/admin/api/resources/users/actions/exportCsv',
      );
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe('/admin/login');
      expect(res.text).not.toContain('dash.test');
    });

    it('streams a 20k-row export complete, in keyset batches (one query per batch)', async () => {
      await t.db.execute(sql`
        insert into users (email, password_hash, name, created_at)
        select 'bulk-' || n || '@bulk.test', 'not-a-real-hash', 'Bulk ' || n, now()
          from generate_series(1, 20000) as n`);
      const pool = t.app.get<pg.Pool>(PG_POOL);
      const original = pool.query.bind(pool) as (...args: unknown[]) => unknown;
      const exportQueries: string[] = [];
      (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (
        ...args: unknown[]
      ) => {
        const first = args[0] as string | { text?: string };
        const text = typeof first === 'string' ? first : (first.text ?? '');
        if (/from "users".*order by "users"\."id" desc/s.test(text)) exportQueries.push(text);
        return original(...args);
      };
      let res;
      try {
        res = await agent
          .get('/admin/api/resources/users/actions/exportCsv')
          .query({ 'filters.email': '@bulk.test' })
          .expect(200);
      } finally {
        (pool as unknown as { query: unknown }).query = original;
      }
      const rows = rowsOf(res.text);
      expect(rows).toHaveLength(20_000);
      expect(new Set(rows.map((r) => r.email)).size).toBe(20_000);
      expect(res.text).not.toContain('not-a-real-hash');
      // 40 full batches of 500, then one that finds nothing more.
      expect(exportQueries).toHaveLength(20_000 / EXPORT_BATCH_SIZE + 1);
      expect(exportQueries.every((q) => /limit \$\d+/.test(q))).toBe(true);
      expect(exportQueries.slice(1).every((q) => /"users"\."id" < \$\d+/.test(q))).toBe(true);
    }, 60_000);
  });
});
