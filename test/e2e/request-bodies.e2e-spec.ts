import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import { gzipSync } from 'node:zlib';
import { users } from '../../src/database/schema.js';
import { MAX_JSON_DEPTH } from '../../src/common/http/json-depth.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, signUp, type SignedUp } from '../support/auth.js';
import { expect429 } from '../support/rate-limit.js';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('request bodies that cost the server', () => {
  let t: TestApp;
  let u: SignedUp;

  beforeAll(async () => {
    t = await createTestApp();
    u = await signUp(t, { name: 'Before' });
  });

  afterAll(async () => {
    await t.close();
  });

  const patchMe = (body: string, contentType = 'application/json') =>
    t.http
      .patch('/api/v1/users/me')
      .set('Authorization', bearer(u.accessToken))
      .set('Content-Type', contentType)
      .send(body);
  /** A JSON body sent with `Content-Encoding: encoding`, its bytes as they are. */
  const patchMeEncoded = (encoding: string, body: string | Buffer) =>
    t.http
      .patch('/api/v1/users/me')
      .set('Authorization', bearer(u.accessToken))
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', encoding)
      // As they are: superagent would JSON-encode a Buffer sent as application/json.
      .serialize((bytes: unknown) => bytes as string)
      .send(body);

  describe('JSON nesting depth', () => {
    it('40,000 levels under the size limit: 400 request.too_deep, unauthenticated, before parsing', async () => {
      const body = `{"email":${nested(40_000)}}`;
      expect(body.length).toBeLessThan(100 * 1024);
      const started = performance.now();
      const res = await t.http
        .post('/api/v1/auth/sign-in')
        .set('Content-Type', 'application/json')
        .send(body);
      const elapsed = performance.now() - started;
      expect({ status: res.status, body: res.body }).toEqual({
        status: 400,
        body: {
          statusCode: 400,
          error: 'Bad Request',
          code: 'request.too_deep',
          message: `The request body nests arrays/objects deeper than ${MAX_JSON_DEPTH} levels`,
        },
      });
      // It used to take about a second of CPU (recursive validation until RangeError, then 500).
      expect(elapsed).toBeLessThan(500);
    });

    it('on an authenticated route too, and nothing is written', async () => {
      const res = await patchMe(`{"name":"x","a":${nested(MAX_JSON_DEPTH)}}`);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('request.too_deep');
      const [user] = await t.db.select().from(users).where(eq(users.id, u.user.id));
      expect(user!.name).toBe('Before');
    });

    it(`exactly ${MAX_JSON_DEPTH} levels (the object counts) reach validation`, async () => {
      const res = await patchMe(`{"name":"x","a":${nested(MAX_JSON_DEPTH - 1)}}`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        code: 'request.invalid',
        details: [{ field: 'a', message: 'property a should not exist' }],
      });
    });

    it('brackets inside strings do not count', async () => {
      const name = '[{'.repeat(40);
      const res = await patchMe(JSON.stringify({ name })).expect(200);
      expect(res.body.name).toBe(name);
    });

    it('JSON in another charset than UTF-8 is a 415 (RFC 8259: JSON is UTF-8)', async () => {
      const res = await t.http
        .patch('/api/v1/users/me')
        .set('Authorization', bearer(u.accessToken))
        .set('Content-Type', 'application/json; charset=utf-16le')
        .send(Buffer.from(JSON.stringify({ name: 'sixteen' }), 'utf16le'));
      expect({ status: res.status, code: res.body.code }).toEqual({
        status: 415,
        code: 'request.unsupported_charset',
      });
      // UTF-8 named explicitly (as Stripe does), in any case, is fine.
      await patchMe(JSON.stringify({ name: 'eight' }), 'application/json; charset=UTF-8').expect(
        200,
      );
    });
  });

  describe('what Express did, kept on Fastify', () => {
    it('a gzip body is inflated; an unknown content encoding is a 415', async () => {
      const res = await patchMeEncoded('gzip', gzipSync(JSON.stringify({ name: 'Zipped' }))).expect(
        200,
      );
      expect(res.body.name).toBe('Zipped');
      const unknown = await patchMeEncoded('zstd', '{"name":"x"}');
      expect({ status: unknown.status, code: unknown.body.code }).toEqual({
        status: 415,
        code: 'request.unsupported_media_type',
      });
    });

    it('JSON whose top is not an object or array is malformed (strict, as body-parser)', async () => {
      for (const body of ['"text"', '42', 'null']) {
        const res = await patchMe(body);
        expect({ body, status: res.status, code: res.body.code }).toEqual({
          body,
          status: 400,
          code: 'request.malformed_json',
        });
      }
    });

    it('a body of another content type is a 415 `request.unsupported_media_type`, not read', async () => {
      await patchMe(JSON.stringify({ name: 'Plain' })).expect(200);
      for (const type of ['text/plain', 'application/xml', 'application/octet-stream']) {
        const res = await patchMe('name=Ignored', type);
        expect({ type, status: res.status, body: res.body }).toEqual({
          type,
          status: 415,
          body: {
            statusCode: 415,
            error: 'Unsupported Media Type',
            code: 'request.unsupported_media_type',
            message: expect.stringContaining('application/json'),
          },
        });
      }
      const [user] = await t.db.select().from(users).where(eq(users.id, u.user.id));
      expect(user!.name).toBe('Plain');
    });

    it('a form body is refused too (415): the API takes JSON only', async () => {
      const res = await t.http
        .patch('/api/v1/users/me')
        .set('Authorization', bearer(u.accessToken))
        .type('form')
        .send('name=Form');
      expect({ status: res.status, code: res.body.code }).toEqual({
        status: 415,
        code: 'request.unsupported_media_type',
      });
      const signIn = await t.http
        .post('/api/v1/auth/sign-in')
        .type('form')
        .send({ email: u.email, password: 'x' });
      expect({ status: signIn.status, code: signIn.body.code }).toEqual({
        status: 415,
        code: 'request.unsupported_media_type',
      });
      const [user] = await t.db.select().from(users).where(eq(users.id, u.user.id));
      expect(user!.name).toBe('Plain');
    });

    it('a body with no content type is a 415; an empty body of any type is no body', async () => {
      const untyped = await t.http
        .post('/api/v1/auth/sign-in')
        .set('Content-Type', '')
        .serialize((bytes: unknown) => bytes as string)
        .send('{"email":"a@example.test","password":"x"}');
      expect({ status: untyped.status, code: untyped.body.code }).toEqual({
        status: 415,
        code: 'request.unsupported_media_type',
      });
      // A bodyless POST, and an empty text/plain one, reach the route.
      const first = await signUp(t);
      await t.http
        .post('/api/v1/auth/sign-out')
        .set('Authorization', bearer(first.accessToken))
        .expect(204);
      const second = await signUp(t);
      await t.http
        .post('/api/v1/auth/sign-out')
        .set('Authorization', bearer(second.accessToken))
        .set('Content-Type', 'text/plain')
        .send('')
        .expect(204);
    });

    it('an unknown route answers 404, whatever the body type', async () => {
      const res = await t.unchecked
        .post('/api/v1/no-such-route')
        .set('Content-Type', 'text/plain')
        .send('hello');
      expect({ status: res.status, code: res.body.code }).toEqual({
        status: 404,
        code: 'route.not_found',
      });
    });

    it('a gzip body that does not inflate is a 400, not a 500', async () => {
      const res = await patchMeEncoded('gzip', '{"name":"not gzip"}');
      expect({ status: res.status, code: res.body.code }).toEqual({
        status: 400,
        code: 'request.invalid',
      });
    });

    it('routes match case-insensitively and with a trailing slash', async () => {
      const res = await t.unchecked
        .get('/API/V1/Users/Me/')
        .set('Authorization', bearer(u.accessToken))
        .expect(200);
      expect(res.body.id).toBe(u.user.id);
    });

    it('a route parameter of any length reaches its pipe (400, not a 414)', async () => {
      const res = await t.http
        .get(`/api/v1/teams/${'9'.repeat(150)}`)
        .set('Authorization', bearer(u.accessToken));
      expect({ status: res.status, code: res.body.code }).toEqual({
        status: 400,
        code: 'request.invalid',
      });
    });

    it('a path with bad percent-encoding is a 400 in the API error shape, with a request id', async () => {
      const res = await t.unchecked.get('/api/v1/teams/%E0%A4%A').expect(400);
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        code: 'request.invalid',
        message: 'The request URL is not validly percent-encoded',
      });
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('prototype-named keys are unknown fields', () => {
    it.each(['__proto__', 'constructor', 'prototype'])(
      '%s in a body: 400 with the same detail as any unknown field; nothing is written',
      async (key) => {
        const [before] = await t.db.select().from(users).where(eq(users.id, u.user.id));
        const unknown = await patchMe('{"name":"Changed","foo":{"role":"admin"}}');
        expect(unknown.status).toBe(400);
        expect(unknown.body.details).toEqual([
          { field: 'foo', message: 'property foo should not exist' },
        ]);

        const res = await patchMe(`{"name":"Changed","${key}":{"role":"admin"}}`);
        expect({ status: res.status, body: res.body }).toEqual({
          status: 400,
          body: {
            statusCode: 400,
            error: 'Bad Request',
            code: 'request.invalid',
            message: 'Invalid request',
            details: [{ field: key, message: `property ${key} should not exist` }],
          },
        });
        const [user] = await t.db.select().from(users).where(eq(users.id, u.user.id));
        expect(user).toEqual(before);
        expect(user!.role).toBe('member');
      },
    );

    it('at any depth, with its path', async () => {
      const res = await t.http
        .post('/api/v1/auth/sign-in')
        .send(JSON.parse('{"email":"a@b.test","password":"x","a":{"b":[{"constructor":{}}]}}'));
      expect(res.status).toBe(400);
      expect(res.body.details).toEqual([
        { field: 'a.b.0.constructor', message: 'property constructor should not exist' },
      ]);
    });

    it('in a query string too', async () => {
      const res = await t.http
        .get(`/api/v1/teams/${u.team.id}/activity?__proto__=x`)
        .set('Authorization', bearer(u.accessToken));
      expect(res.status).toBe(400);
      expect(res.body.details).toEqual([
        { field: '__proto__', message: 'property __proto__ should not exist' },
      ]);
    });

    it('sign-up with __proto__ creates no account', async () => {
      const email = uniqueEmail('proto');
      const res = await t.http
        .post('/api/v1/auth/sign-up')
        .set('Content-Type', 'application/json')
        .send(
          `{"email":"${email}","password":"correct horse battery","__proto__":{"role":"admin"}}`,
        );
      expect(res.status).toBe(400);
      expect(await t.db.select().from(users).where(eq(users.email, email))).toEqual([]);
    });
  });
});

describe('GET /billing/checkout/success is throttled per client IP', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      env: { TRUST_PROXY: 'true', RATE_LIMIT_PER_IP: '3', RATE_LIMIT_WINDOW: '600' },
    });
  });

  afterAll(async () => {
    await t.close();
  });

  const hit = (ip: string) =>
    t.http
      .get('/api/v1/billing/checkout/success')
      .query({ session_id: 'cs_test_throttled' })
      .set('X-Forwarded-For', ip);

  it('the fourth request from one IP is 429 with Retry-After; another IP is not affected', async () => {
    // Without Stripe configured each allowed hit is a 503: the guard runs first either way.
    for (let i = 0; i < 3; i++) expect((await hit('203.0.113.7')).status).toBe(503);
    expect429(await hit('203.0.113.7'));
    expect((await hit('203.0.113.8')).status).toBe(503);
  });

  it('documents the 429 with Retry-After in Swagger', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, { responses: Record<string, { headers?: object }> }>>;
    };
    const responses = doc.paths['/api/v1/billing/checkout/success']!.get!.responses;
    expect(responses['429']).toMatchObject({ headers: { 'Retry-After': expect.any(Object) } });
  });
});
