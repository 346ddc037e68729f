import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, signUpVerified, type SignedUp } from '../support/auth.js';
import { startSmtpCapture, type SmtpCapture } from '../support/smtp.js';

const b64 = (text: string) => Buffer.from(text).toString('base64url');
const unb64 = (cursor: string) => Buffer.from(cursor, 'base64url').toString('utf8');

/**
 * The teams list and both invitation lists page by id alone (newest first). Their cursors are
 * the id only; the `<ISO timestamp>|<id>` cursors issued before v1.1 are still accepted for one
 * release, their timestamp ignored (see decodeIdCursor in src/common/http/pagination.ts).
 */
describe('id-ordered list cursors (teams, invitations)', () => {
  let t: TestApp;
  let smtp: SmtpCapture;
  /** Member of three teams, and invited to three teams. */
  let me: SignedUp;
  /** Owner of a team with three pending invitations. */
  let owner: SignedUp;

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    t = await createTestApp({ env: { SMTP_URL: smtp.url } });
    me = await signUpVerified(t);
    for (const name of ['Second', 'Third']) {
      const res = await t.http
        .post('/api/v1/teams')
        .set('Authorization', bearer(me.accessToken))
        .send({ name });
      expect(res.status).toBe(201);
    }
    owner = await signUpVerified(t);
    const inviters = [owner, await signUpVerified(t), await signUpVerified(t)];
    const invite = (from: SignedUp, email: string) =>
      t.http
        .post(`/api/v1/teams/${from.team.id}/invitations`)
        .set('Authorization', bearer(from.accessToken))
        .send({ email, role: 'member' });
    for (const from of inviters) expect((await invite(from, me.email)).status).toBe(201);
    for (const email of [uniqueEmail(), uniqueEmail()]) {
      expect((await invite(owner, email)).status).toBe(201);
    }
  });

  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const lists = [
    {
      name: 'GET /teams',
      path: () => '/api/v1/teams',
      token: () => me.accessToken,
      position: (item: Record<string, unknown>) => item.memberId as number,
    },
    {
      name: 'GET /invitations',
      path: () => '/api/v1/invitations',
      token: () => me.accessToken,
      position: (item: Record<string, unknown>) => item.id as number,
    },
    {
      name: 'GET /teams/:teamId/invitations',
      path: () => `/api/v1/teams/${owner.team.id}/invitations`,
      token: () => owner.accessToken,
      position: (item: Record<string, unknown>) => item.id as number,
    },
  ];

  describe.each(lists)('$name', ({ path, token, position }) => {
    const get = (query: Record<string, string | number>) =>
      t.http.get(path()).query(query).set('Authorization', bearer(token()));

    it('issues cursors holding the id alone, and pages through every row exactly once', async () => {
      const all = await get({ limit: 100 });
      expect(all.status).toBe(200);
      expect(all.body.items).toHaveLength(3);

      const seen: unknown[] = [];
      let cursor: string | null = null;
      do {
        const res = await get(cursor === null ? { limit: 1 } : { limit: 1, cursor });
        expect(res.status).toBe(200);
        const items = res.body.items as Record<string, unknown>[];
        seen.push(...items);
        cursor = res.body.nextCursor as string | null;
        if (cursor !== null) expect(unb64(cursor)).toBe(String(position(items.at(-1)!)));
      } while (cursor !== null && seen.length <= 3);
      expect(seen).toEqual(all.body.items);
    });

    it('still accepts an old `<timestamp>|<id>` cursor and ignores its timestamp', async () => {
      const first = await get({ limit: 1 });
      const next = first.body.nextCursor as string;
      const id = unb64(next);
      const expected = await get({ limit: 100, cursor: next });
      expect(expected.status).toBe(200);
      expect(expected.body.items).toHaveLength(2);

      // Timestamps that say nothing of the row: far past, far future, the old ms format.
      for (const at of [
        '2000-01-01T00:00:00.000Z',
        '2999-12-31T23:59:59.999Z',
        new Date().toISOString(),
      ]) {
        const res = await get({ limit: 100, cursor: b64(`${at}|${id}`) });
        expect({ at, status: res.status, body: res.body }).toEqual({
          at,
          status: 200,
          body: expected.body,
        });
      }
      // And paging on from an old cursor hands out new ones.
      const paged = await get({ limit: 1, cursor: b64(`2000-01-01T00:00:00.000Z|${id}`) });
      expect(unb64(paged.body.nextCursor as string)).toMatch(/^[1-9]\d*$/);
    });

    it.each([
      ['not base64 of anything useful', '%%%'],
      ['a word', b64('abc')],
      ['id 0', b64('0')],
      ['a negative id', b64('-1')],
      ['a fractional id', b64('1.5')],
      ['an id beyond int4', b64('99999999999')],
      ['trailing junk', b64('12abc')],
      ['an empty cursor', ''],
      ['an old cursor with a bad timestamp', b64('yesterday|5')],
      ['an old cursor with a bad id', b64('2030-01-01T00:00:00.000Z|abc')],
      ['an old cursor with no id', b64('2030-01-01T00:00:00.000Z|')],
      ['an old cursor with an id beyond int4', b64('2030-01-01T00:00:00.000Z|99999999999')],
    ])('answers 400 request.invalid_cursor to %s', async (_label, cursor) => {
      const res = await get({ cursor });
      expect({ status: res.status, code: res.body.code }).toEqual({
        status: 400,
        code: 'request.invalid_cursor',
      });
    });
  });
});
