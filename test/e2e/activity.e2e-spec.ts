import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import { teamMembers } from '../../src/database/schema.js';
import { activityRows } from '../support/activity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, signIn, signUp } from '../support/auth.js';

describe('activity log', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  const logsOf = (userId: number, action: string) => activityRows(t.db, { userId, action });

  describe('GET /activity', () => {
    it('lists only my entries, newest first, in disjoint keyset pages', async () => {
      const u = await signUp(t);
      const stranger = await signUp(t);
      await signIn(t, stranger.email, stranger.password);
      for (let i = 0; i < 3; i++) await signIn(t, u.email, u.password);
      // SIGN_UP, CREATE_TEAM, 3 x SIGN_IN
      const seen: { id: number; action: string; timestamp: string; teamId: number }[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: Record<string, string | number> = cursor ? { limit: 2, cursor } : { limit: 2 };
        const res: { body: { items: typeof seen; nextCursor: string | null } } = await t.http
          .get('/api/v1/activity')
          .query(query)
          .set('Authorization', bearer(u.accessToken))
          .expect(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.items);
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor !== null && pages < 10);
      expect(pages).toBe(3);
      expect(seen.map((e) => e.action)).toEqual([
        'SIGN_IN',
        'SIGN_IN',
        'SIGN_IN',
        'CREATE_TEAM',
        'SIGN_UP',
      ]);
      expect(seen[0]).toEqual({
        id: expect.any(Number),
        action: 'SIGN_IN',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
        ipAddress: '127.0.0.1',
        teamId: u.team.id,
      });
      expect(new Set(seen.map((e) => e.id)).size).toBe(5);
      const times = seen.map((e) => Date.parse(e.timestamp));
      expect([...times].sort((a, b) => b - a)).toEqual(times);
    });

    it('400 for a bad cursor or limit, 401 without a token', async () => {
      const u = await signUp(t);
      const auth = bearer(u.accessToken);
      const bad = await t.http
        .get('/api/v1/activity?cursor=garbage')
        .set('Authorization', auth)
        .expect(400);
      expect(bad.body).toMatchObject({ code: 'request.invalid_cursor' });
      await t.http.get('/api/v1/activity?limit=0').set('Authorization', auth).expect(400);
      await t.http.get('/api/v1/activity?limit=101').set('Authorization', auth).expect(400);
      await t.http.get('/api/v1/activity').expect(401);
    });
  });

  describe('rows of account changes (UPDATE_ACCOUNT, SIGN_OUT), written by their services', () => {
    it('SIGN_OUT is written with the revocation, against the first team', async () => {
      const u = await signUp(t);
      await t.http
        .post('/api/v1/auth/sign-out')
        .set('Authorization', bearer(u.accessToken))
        .expect(204);
      expect((await logsOf(u.user.id, 'SIGN_OUT')).map((l) => l.teamId)).toEqual([u.team.id]);
    });

    it('writes nothing when the change fails (rolled back with it)', async () => {
      const u = await signUp(t);
      const other = await signUp(t);
      await t.http
        .patch('/api/v1/users/me')
        .set('Authorization', bearer(u.accessToken))
        .send({ name: 'Never saved', email: other.email })
        .expect(409);
      expect(await logsOf(u.user.id, 'UPDATE_ACCOUNT')).toEqual([]);
    });

    it('a user without a team gets no row (activity_logs.teamId is required)', async () => {
      const u = await signUp(t);
      await t.db.delete(teamMembers).where(eq(teamMembers.userId, u.user.id));
      await t.http
        .patch('/api/v1/users/me')
        .set('Authorization', bearer(u.accessToken))
        .send({ name: 'Teamless' })
        .expect(200);
      expect(await logsOf(u.user.id, 'UPDATE_ACCOUNT')).toEqual([]);
    });

    it('without :teamId, the first team joined is used', async () => {
      const u = await signUp(t);
      const other = await signUp(t);
      await t.db
        .insert(teamMembers)
        .values({ teamId: other.team.id, userId: u.user.id, role: 'member' });
      await t.http
        .patch('/api/v1/users/me')
        .set('Authorization', bearer(u.accessToken))
        .send({ name: 'First team wins' })
        .expect(200);
      expect((await logsOf(u.user.id, 'UPDATE_ACCOUNT')).map((l) => l.teamId)).toEqual([u.team.id]);
    });
  });

  describe('client IP with TRUST_PROXY', () => {
    let proxied: TestApp;

    beforeAll(async () => {
      proxied = await createTestApp({ env: { TRUST_PROXY: 'true' } });
    });

    afterAll(async () => {
      await proxied.close();
    });

    it('records the X-Forwarded-For client for rows of public routes and of signed-in users', async () => {
      const u = await signUp(proxied);
      const res = await proxied.http
        .post('/api/v1/auth/sign-in')
        .set('X-Forwarded-For', '203.0.113.9, 10.0.0.1')
        .send({ email: u.email, password: u.password })
        .expect(200);
      await proxied.http
        .patch('/api/v1/users/me')
        .set('Authorization', bearer(res.body.accessToken))
        .set('X-Forwarded-For', '2001:db8::7')
        .send({ name: 'Behind a proxy' })
        .expect(200);
      expect((await logsOf(u.user.id, 'SIGN_IN')).map((l) => l.ipAddress)).toEqual(['203.0.113.9']);
      expect((await logsOf(u.user.id, 'UPDATE_ACCOUNT')).map((l) => l.ipAddress)).toEqual([
        '2001:db8::7',
      ]);
    });
  });
});
