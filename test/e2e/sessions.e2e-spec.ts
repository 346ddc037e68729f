import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import { sessions } from '../../src/database/schema.js';
import { LAST_USED_RESOLUTION_MS } from '../../src/modules/auth/jwt.strategy.js';
import { activityRows } from '../support/activity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, signIn, signUp } from '../support/auth.js';

describe('sessions of the signed-in user (GET/DELETE /users/me/sessions)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { TRUST_PROXY: 'true' } });
  });

  afterAll(async () => {
    await t.close();
  });

  const list = (token: string) =>
    t.http.get('/api/v1/users/me/sessions').set('Authorization', bearer(token));

  /** Signs in with a given device and address, returns the tokens and the session id. */
  async function signInFrom(email: string, password: string, userAgent: string, ip: string) {
    const res = await t.http
      .post('/api/v1/auth/sign-in')
      .set('User-Agent', userAgent)
      .set('X-Forwarded-For', ip)
      .send({ email, password })
      .expect(200);
    const body = res.body as { accessToken: string; refreshToken: string };
    return { ...body, sessionId: body.refreshToken.split('.')[0]! };
  }

  it('lists each sign-in with device, address, times and the current flag', async () => {
    const u = await signUp(t);
    const laptop = await signInFrom(u.email, u.password, 'Laptop/1.0', '203.0.113.10');
    const phone = await signInFrom(u.email, u.password, 'Phone/2.0', '198.51.100.20');

    const res = await list(laptop.accessToken).expect(200);
    const items = res.body as {
      id: string;
      createdAt: string;
      lastUsedAt: string;
      ipAddress: string | null;
      userAgent: string | null;
      current: boolean;
    }[];
    // The sign-up session and the two sign-ins.
    expect(items).toHaveLength(3);
    const byId = new Map(items.map((s) => [s.id, s]));
    expect(byId.get(laptop.sessionId)).toEqual({
      id: laptop.sessionId,
      createdAt: expect.any(String),
      lastUsedAt: expect.any(String),
      ipAddress: '203.0.113.10',
      userAgent: 'Laptop/1.0',
      current: true,
    });
    expect(byId.get(phone.sessionId)).toMatchObject({
      ipAddress: '198.51.100.20',
      userAgent: 'Phone/2.0',
      current: false,
    });
    expect(items.filter((s) => s.current)).toHaveLength(1);
    for (const s of items)
      expect(Date.parse(s.lastUsedAt)).toBeGreaterThanOrEqual(Date.parse(s.createdAt));

    // The phone sees itself as current.
    const fromPhone = await list(phone.accessToken).expect(200);
    expect((fromPhone.body as { id: string; current: boolean }[]).find((s) => s.current)?.id).toBe(
      phone.sessionId,
    );
  });

  it('revokes one session: its tokens stop at once, it leaves the list, REVOKE_SESSION is written', async () => {
    const u = await signUp(t);
    const a = await signInFrom(u.email, u.password, 'A', '203.0.113.1');
    const b = await signInFrom(u.email, u.password, 'B', '203.0.113.2');

    await t.http
      .delete(`/api/v1/users/me/sessions/${b.sessionId}`)
      .set('Authorization', bearer(a.accessToken))
      .set('X-Forwarded-For', '203.0.113.1')
      .expect(204);

    await t.http.get('/api/v1/users/me').set('Authorization', bearer(b.accessToken)).expect(401);
    await t.http.post('/api/v1/auth/refresh').send({ refreshToken: b.refreshToken }).expect(401);
    await t.http.get('/api/v1/users/me').set('Authorization', bearer(a.accessToken)).expect(200);
    const ids = ((await list(a.accessToken).expect(200)).body as { id: string }[]).map((s) => s.id);
    expect(ids).not.toContain(b.sessionId);
    expect(ids).toContain(a.sessionId);

    const rows = await activityRows(t.db, { userId: u.user.id, action: 'REVOKE_SESSION' });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ teamId: u.team.id, ipAddress: '203.0.113.1' });
    const [row] = await t.db.select().from(sessions).where(eq(sessions.id, b.sessionId));
    expect(row).toMatchObject({ revokedReason: 'revoked_by_user', revokedAt: expect.any(Date) });

    // Already revoked: 404, nothing more written.
    await t.http
      .delete(`/api/v1/users/me/sessions/${b.sessionId}`)
      .set('Authorization', bearer(a.accessToken))
      .expect(404);
    expect(await activityRows(t.db, { userId: u.user.id, action: 'REVOKE_SESSION' })).toHaveLength(
      1,
    );
  });

  it("answers 404 for another user's session and leaves it alone; 400 for a malformed id", async () => {
    const me = await signUp(t);
    const other = await signUp(t);
    const otherSession = other.refreshToken.split('.')[0]!;

    const res = await t.http
      .delete(`/api/v1/users/me/sessions/${otherSession}`)
      .set('Authorization', bearer(me.accessToken))
      .expect(404);
    expect(res.body).toMatchObject({ statusCode: 404, code: 'session.not_found' });
    await t.http
      .get('/api/v1/users/me')
      .set('Authorization', bearer(other.accessToken))
      .expect(200);

    // Unknown id: the same 404.
    await t.http
      .delete('/api/v1/users/me/sessions/00000000-0000-4000-8000-000000000000')
      .set('Authorization', bearer(me.accessToken))
      .expect(404);

    const bad = await t.http
      .delete('/api/v1/users/me/sessions/not-a-uuid')
      .set('Authorization', bearer(me.accessToken))
      .expect(400);
    expect(bad.body).toMatchObject({
      code: 'request.invalid',
      details: [{ field: 'sessionId', message: 'sessionId must be a UUID' }],
    });
    expect(await activityRows(t.db, { userId: me.user.id, action: 'REVOKE_SESSION' })).toEqual([]);
  });

  it('revoking the current session signs this client out', async () => {
    const u = await signUp(t);
    const current = u.refreshToken.split('.')[0]!;
    await t.http
      .delete(`/api/v1/users/me/sessions/${current.toUpperCase()}`)
      .set('Authorization', bearer(u.accessToken))
      .expect(204);
    await t.http.get('/api/v1/users/me').set('Authorization', bearer(u.accessToken)).expect(401);
  });

  it('revokes all my other sessions, keeping this one; other users are untouched', async () => {
    const u = await signUp(t);
    const a = await signIn(t, u.email, u.password);
    const b = await signIn(t, u.email, u.password);
    const stranger = await signUp(t);

    await t.http
      .delete('/api/v1/users/me/sessions')
      .set('Authorization', bearer(a.accessToken))
      .expect(204);

    await t.http.get('/api/v1/users/me').set('Authorization', bearer(a.accessToken)).expect(200);
    for (const token of [u.accessToken, b.accessToken]) {
      await t.http.get('/api/v1/users/me').set('Authorization', bearer(token)).expect(401);
    }
    await t.http.post('/api/v1/auth/refresh').send({ refreshToken: u.refreshToken }).expect(401);
    await t.http
      .get('/api/v1/users/me')
      .set('Authorization', bearer(stranger.accessToken))
      .expect(200);
    const items = (await list(a.accessToken).expect(200)).body as { current: boolean }[];
    expect(items).toEqual([expect.objectContaining({ current: true })]);
    expect(await activityRows(t.db, { userId: u.user.id, action: 'REVOKE_SESSION' })).toHaveLength(
      1,
    );

    // Nothing left to end: 204, no new row.
    await t.http
      .delete('/api/v1/users/me/sessions')
      .set('Authorization', bearer(a.accessToken))
      .expect(204);
    expect(await activityRows(t.db, { userId: u.user.id, action: 'REVOKE_SESSION' })).toHaveLength(
      1,
    );
  });

  it('updates lastUsedAt on use, but only once it is older than the resolution', async () => {
    const u = await signUp(t);
    const sessionId = u.refreshToken.split('.')[0]!;
    const lastUsed = async () =>
      (await t.db.select().from(sessions).where(eq(sessions.id, sessionId)))[0]!.lastUsedAt;

    // Fresh: requests do not write.
    const before = await lastUsed();
    await t.http.get('/api/v1/users/me').set('Authorization', bearer(u.accessToken)).expect(200);
    expect((await lastUsed()).getTime()).toBe(before.getTime());

    // Stale (older than the resolution): the next request writes it.
    const stale = new Date(Date.now() - LAST_USED_RESOLUTION_MS - 5_000);
    await t.db.update(sessions).set({ lastUsedAt: stale }).where(eq(sessions.id, sessionId));
    await t.http.get('/api/v1/users/me').set('Authorization', bearer(u.accessToken)).expect(200);
    const touched = await lastUsed();
    expect(touched.getTime()).toBeGreaterThan(Date.now() - 10_000);

    // A refresh counts as use too.
    await t.db.update(sessions).set({ lastUsedAt: stale }).where(eq(sessions.id, sessionId));
    await t.http.post('/api/v1/auth/refresh').send({ refreshToken: u.refreshToken }).expect(200);
    expect((await lastUsed()).getTime()).toBeGreaterThan(Date.now() - 10_000);
  });

  it('requires a token', async () => {
    await t.http.get('/api/v1/users/me/sessions').expect(401);
    await t.http.delete('/api/v1/users/me/sessions').expect(401);
  });
});
