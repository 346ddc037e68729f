import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { teamMembers } from '../../src/database/schema.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, signUp, type SignedUp } from '../support/auth.js';

interface FeedItem {
  id: number;
  action: string;
  timestamp: string;
}

/**
 * Both activity feeds page with one exact (timestamp, id) keyset. Rows written outside
 * AuditService (seed, admin panel, raw SQL, `now()` defaults) keep PostgreSQL's microseconds,
 * so these rows share one millisecond and differ only in microseconds (two share the exact
 * same instant): a millisecond cursor would skip or repeat them at a page boundary.
 */
describe('activity feed cursors (exact keyset)', () => {
  let t: TestApp;
  let owner: SignedUp;
  let member: SignedUp;
  let stranger: SignedUp;
  /** Ids of the rows inserted below, in the order both feeds must return them. */
  let ownerRowsNewestFirst: number[];
  let teamRowsNewestFirst: number[];
  let strangerRowIds: number[];

  const cb = (path: string) => `/api/v1${path}`;

  async function insertAt(
    teamId: number,
    userId: number,
    at: string,
    action = 'SIGN_IN',
  ): Promise<number> {
    const result = await t.db.execute<{ id: number }>(
      sql`insert into activity_logs (team_id, user_id, action, "timestamp", ip_address)
          values (${teamId}, ${userId}, ${action}, ${at}::timestamp, '192.0.2.1') returning id`,
    );
    const id = result.rows[0]?.id;
    if (id === undefined) throw new Error('insert returned no id');
    return id;
  }

  async function allPages(path: string, token: string, limit: number): Promise<FeedItem[]> {
    const seen: FeedItem[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 100; page++) {
      const query: Record<string, string | number> =
        cursor === null ? { limit } : { limit, cursor };
      const res = await t.http.get(cb(path)).query(query).set('Authorization', bearer(token));
      expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status: 200 });
      const body = res.body as { items: FeedItem[]; nextCursor: string | null };
      expect(body.items.length).toBeLessThanOrEqual(limit);
      seen.push(...body.items);
      cursor = body.nextCursor;
      if (cursor === null) return seen;
    }
    throw new Error('feed did not end');
  }

  /** The stored order, straight from the table (the truth the feeds must reproduce). */
  async function storedOrder(where: ReturnType<typeof sql>): Promise<number[]> {
    const result = await t.db.execute<{ id: number }>(
      sql`select id from activity_logs where ${where} order by "timestamp" desc, id desc`,
    );
    return result.rows.map((r) => Number(r.id));
  }

  beforeAll(async () => {
    t = await createTestApp();
    owner = await signUp(t);
    member = await signUp(t);
    stranger = await signUp(t);
    await t.db
      .insert(teamMembers)
      .values({ teamId: owner.team.id, userId: member.user.id, role: 'member' });

    // One millisecond, far in the future so these are the newest rows of every feed.
    const ms = '2031-06-01 12:00:00.123';
    const team = owner.team.id;
    const o100 = await insertAt(team, owner.user.id, `${ms}100`);
    const o300 = await insertAt(team, owner.user.id, `${ms}300`);
    const m400 = await insertAt(team, member.user.id, `${ms}400`);
    const o500a = await insertAt(team, owner.user.id, `${ms}500`);
    const o500b = await insertAt(team, owner.user.id, `${ms}500`);
    const m600 = await insertAt(team, member.user.id, `${ms}600`);
    const o700 = await insertAt(team, owner.user.id, `${ms}700`);
    const m800 = await insertAt(team, member.user.id, `${ms}800`);
    const o900 = await insertAt(team, owner.user.id, `${ms}900`);
    strangerRowIds = [
      await insertAt(stranger.team.id, stranger.user.id, `${ms}350`),
      await insertAt(stranger.team.id, stranger.user.id, `${ms}750`),
    ];
    // Same instant: the higher id is the newer row.
    ownerRowsNewestFirst = [o900, o700, o500b, o500a, o300, o100];
    teamRowsNewestFirst = [o900, m800, o700, m600, o500b, o500a, m400, o300, o100];
  });

  afterAll(async () => {
    await t.close();
  });

  it.each([1, 2, 3, 4])(
    'GET /activity returns every row exactly once, newest first (limit %i)',
    async (limit) => {
      const items = await allPages('/activity', owner.accessToken, limit);
      const ids = items.map((i) => i.id);
      expect(ids.slice(0, ownerRowsNewestFirst.length)).toEqual(ownerRowsNewestFirst);
      expect(ids).toEqual(await storedOrder(sql`user_id = ${owner.user.id}`));
      expect(new Set(ids).size).toBe(ids.length);
      // The sign-up rows come after the future-dated ones; no stranger or member row leaks in.
      expect(items.slice(ownerRowsNewestFirst.length).map((i) => i.action)).toEqual([
        'CREATE_TEAM',
        'SIGN_UP',
      ]);
    },
  );

  it.each([1, 2, 3, 4])(
    'GET /teams/:teamId/activity returns every row exactly once, newest first (limit %i)',
    async (limit) => {
      const items = await allPages(`/teams/${owner.team.id}/activity`, owner.accessToken, limit);
      const ids = items.map((i) => i.id);
      expect(ids.slice(0, teamRowsNewestFirst.length)).toEqual(teamRowsNewestFirst);
      expect(ids).toEqual(await storedOrder(sql`team_id = ${owner.team.id}`));
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.some((id) => strangerRowIds.includes(id))).toBe(false);
    },
  );

  it('filters keep the exact keyset (userId filter across the same millisecond)', async () => {
    const items = await allPages(
      `/teams/${owner.team.id}/activity?userId=${member.user.id}`,
      owner.accessToken,
      1,
    );
    expect(items.map((i) => i.id)).toEqual(
      teamRowsNewestFirst.filter((id) => !ownerRowsNewestFirst.includes(id)),
    );
  });

  describe('cursors we did not issue', () => {
    const forged = (text: string) => Buffer.from(text).toString('base64url');

    it.each([
      ['garbage', 'garbage'],
      ['a millisecond ISO cursor', forged('2031-06-01T12:00:00.123Z|5')],
      ['an impossible date', forged('2031-02-30T12:00:00.123456|5')],
      ['month 13', forged('2031-13-01T12:00:00.123456|5')],
      ['year zero', forged('0000-01-01T00:00:00.000000|5')],
      ['an id beyond int4', forged('2031-06-01T12:00:00.123456|99999999999')],
      ['id zero', forged('2031-06-01T12:00:00.123456|0')],
      ['extra parts', forged('2031-06-01T12:00:00.123456|5|6')],
      ['an empty cursor', ''],
    ])('%s is a 400 request.invalid_cursor on both feeds', async (_name, cursor) => {
      for (const path of ['/activity', `/teams/${owner.team.id}/activity`]) {
        const res = await t.http
          .get(cb(path))
          .query({ cursor })
          .set('Authorization', bearer(owner.accessToken));
        expect({ path, status: res.status, body: res.body as unknown }).toMatchObject({
          status: 400,
          body: { statusCode: 400, code: 'request.invalid_cursor' },
        });
      }
    });

    it("another team's cursor only positions the page: never rows from that team", async () => {
      const theirs = await t.http
        .get(cb(`/teams/${stranger.team.id}/activity`))
        .query({ limit: 1 })
        .set('Authorization', bearer(stranger.accessToken))
        .expect(200);
      const cursor = (theirs.body as { nextCursor: string }).nextCursor;
      expect(cursor).toEqual(expect.any(String));
      const res = await t.http
        .get(cb(`/teams/${owner.team.id}/activity`))
        .query({ cursor, limit: 100 })
        .set('Authorization', bearer(owner.accessToken))
        .expect(200);
      const ids = (res.body as { items: FeedItem[] }).items.map((i) => i.id);
      const mine = await storedOrder(sql`team_id = ${owner.team.id}`);
      // Stranger's first row is at .123750: the page continues our feed from that instant.
      expect(ids).toEqual(mine.slice(mine.indexOf(teamRowsNewestFirst[2]!)));
      const mineAgain = await t.http
        .get(cb('/activity'))
        .query({ cursor, limit: 100 })
        .set('Authorization', bearer(owner.accessToken))
        .expect(200);
      const myIds = (mineAgain.body as { items: FeedItem[] }).items.map((i) => i.id);
      expect(myIds.every((id) => !strangerRowIds.includes(id))).toBe(true);
      expect(myIds.slice(0, 1)).toEqual([ownerRowsNewestFirst[1]]);
    });
  });
});
