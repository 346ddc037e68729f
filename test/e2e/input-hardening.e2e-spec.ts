import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import { teams, users } from '../../src/database/schema.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, signUp, type SignedUp } from '../support/auth.js';

/** Inputs that used to reach PostgreSQL and fail there (500); each is now a 400. */
describe('bad input is a 400, never a 500', () => {
  let t: TestApp;
  let u: SignedUp;

  beforeAll(async () => {
    t = await createTestApp();
    u = await signUp(t, { name: 'Before' });
  });

  afterAll(async () => {
    await t.close();
  });

  const expect400 = (
    res: { status: number; body: unknown },
    code: string,
    field?: string,
  ): void => {
    expect({ status: res.status, body: res.body }).toMatchObject({
      status: 400,
      body: {
        statusCode: 400,
        error: 'Bad Request',
        code,
        ...(field === undefined
          ? {}
          : { details: expect.arrayContaining([expect.objectContaining({ field })]) }),
      },
    });
  };

  it('a NUL character in a body field (PostgreSQL text cannot hold U+0000); nothing is written', async () => {
    const auth = bearer(u.accessToken);
    expect400(
      await t.http
        .patch(`/api/v1/teams/${u.team.id}`)
        .set('Authorization', auth)
        .send({ name: 'a\u0000b' }),
      'request.invalid',
      'name',
    );
    expect400(
      await t.http.patch('/api/v1/users/me').set('Authorization', auth).send({ name: 'x\u0000' }),
      'request.invalid',
      'name',
    );
    expect400(
      await t.http.post('/api/v1/teams').set('Authorization', auth).send({ name: '\u0000' }),
      'request.invalid',
      'name',
    );
    const [team] = await t.db.select().from(teams).where(eq(teams.id, u.team.id));
    expect(team!.name).toBe(u.team.name);
    const [user] = await t.db.select().from(users).where(eq(users.id, u.user.id));
    expect(user!.name).toBe('Before');
  });

  it('a NUL character in a query parameter', async () => {
    expect400(
      await t.http
        .get(`/api/v1/teams/${u.team.id}/activity?action=%00`)
        .set('Authorization', bearer(u.accessToken)),
      'request.invalid',
      'action',
    );
  });

  it.each(['/teams', '/invitations', '/teams/:teamId/invitations'])(
    'a %s cursor naming an id beyond int4',
    async (path) => {
      const cursor = Buffer.from('2030-01-01T00:00:00.000Z|99999999999').toString('base64url');
      const res = await t.http
        .get(`/api/v1${path.replace(':teamId', String(u.team.id))}`)
        .query({ cursor })
        .set('Authorization', bearer(u.accessToken));
      expect400(res, 'request.invalid_cursor');
    },
  );

  describe('GET /teams/:teamId/activity from/to', () => {
    const activity = (query: string) =>
      t.http
        .get(`/api/v1/teams/${u.team.id}/activity?${query}`)
        .set('Authorization', bearer(u.accessToken));

    it.each([
      ['week date', 'from=2030-W01-1'],
      ['ordinal date', 'from=2030-012'],
      ['basic format', 'from=20300101T000000Z'],
      ['comma fraction', 'to=2030-01-01T00:00:00,5Z'],
    ])('400 for an ISO-8601 form that is not a calendar date-time (%s)', async (_name, query) => {
      expect400(await activity(query), 'request.invalid');
    });

    it('400 when to is not later than from (the range [from, to) would be empty)', async () => {
      expect400(
        await activity('from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z'),
        'request.invalid',
        'to',
      );
      expect400(
        await activity('from=2030-01-01T00:00:00Z&to=2030-01-01T00:00:00Z'),
        'request.invalid',
        'to',
      );
    });

    it('a valid range with an offset filters on the instant', async () => {
      const res = await activity(
        'from=2000-01-01T01:00:00%2B01:00&to=9999-12-31T23:59:59.999Z',
      ).expect(200);
      expect((res.body as { items: { action: string }[] }).items.map((i) => i.action)).toEqual([
        'CREATE_TEAM',
        'SIGN_UP',
      ]);
      const none = await activity('to=2000-01-01T00:00:00Z').expect(200);
      expect(none.body).toEqual({ items: [], nextCursor: null });
    });
  });
});
