import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import { randomInt } from 'node:crypto';
import supertest from 'supertest';
import { RateLimiterService } from '../../src/common/rate-limit/rate-limiter.service.js';
import { users } from '../../src/database/schema.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, DEFAULT_PASSWORD } from '../support/auth.js';
import { expect429 } from '../support/rate-limit.js';
import {
  acquireRedis,
  hasRedisServerBinary,
  pingRedis,
  REDIS_HOW_TO,
  type TestRedis,
} from '../support/redis.js';

const CORS_ORIGIN = 'https://app.example.test';
const LIMITS = {
  TRUST_PROXY: 'true',
  CORS_ORIGINS: CORS_ORIGIN,
  RATE_LIMIT_PER_IP: '3',
  RATE_LIMIT_PER_EMAIL: '2',
  RATE_LIMIT_WINDOW: '600',
  RATE_LIMIT_TOKEN_PER_IP: '3',
  // Keeps the address slowdown (unit-tested in rate-limiter.service.spec.ts) short here.
  RATE_LIMIT_SLOWDOWN_MAX_MS: '50',
};

/** The login page's error (a locale key): AdminJS renders the page client-side from __APP_STATE__. */
function loginError(html: string): string | null | undefined {
  const match = /window\.__APP_STATE__ = JSON\.parse\('(.*)'\);/.exec(html);
  if (!match) return undefined;
  const state = JSON.parse(match[1]!.replace(/\\"/g, '"')) as { errorMessage: string | null };
  return state.errorMessage;
}

let ipCounter = 0;
/**
 * A fresh client address per test (TRUST_PROXY is on), so tests do not share IP counters,
 * not even with earlier runs on the machine's Redis (its counters live for the window).
 */
const ipBase = `10.${randomInt(256)}.${randomInt(256)}`;
const freshIp = () => `${ipBase}.${++ipCounter}`;

describe('rate limits (RATE_LIMIT_PER_IP=3, RATE_LIMIT_PER_EMAIL=2, RATE_LIMIT_TOKEN_PER_IP=3)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: LIMITS });
  });

  afterAll(async () => {
    await t.close();
  });

  const signInFrom = (ip: string, email: string, password = 'wrong password') =>
    t.http.post('/api/v1/auth/sign-in').set('X-Forwarded-For', ip).send({ email, password });

  /** A new account, signed up from an IP of its own (sign-up is limited per IP too). */
  const newUser = async () => {
    const email = uniqueEmail();
    const res = await t.http
      .post('/api/v1/auth/sign-up')
      .set('X-Forwarded-For', freshIp())
      .send({ email, password: DEFAULT_PASSWORD })
      .expect(201);
    return { email, password: DEFAULT_PASSWORD, user: (res.body as { user: { id: number } }).user };
  };

  const adminLoginFrom = async (ip: string, email: string, password: string) => {
    const agent = supertest.agent(t.app.getHttpServer());
    const res = await agent
      .post('/admin/login')
      .set('X-Forwarded-For', ip)
      .type('form')
      .send({ email, password });
    return { agent, res };
  };

  it('sign-in: the third failure for one email from one IP makes it 429 with Retry-After, even with the right password', async () => {
    const u = await newUser();
    const ip = freshIp();
    expect((await signInFrom(ip, u.email)).status).toBe(401);
    expect((await signInFrom(ip, u.email)).status).toBe(401);
    expect429(await signInFrom(ip, u.email, u.password));
    // Normalized: case and spaces do not give a new counter.
    expect429(await signInFrom(ip, ` ${u.email.toUpperCase()}`, u.password));
  });

  it('sign-in: after three failures from one IP it is 429 whatever the email', async () => {
    const u = await newUser();
    const ip = freshIp();
    for (let i = 0; i < 3; i++) expect((await signInFrom(ip, uniqueEmail())).status).toBe(401);
    expect429(await signInFrom(ip, uniqueEmail()));
    expect429(await signInFrom(ip, u.email, u.password));
    // Another client is not affected.
    expect((await signInFrom(freshIp(), uniqueEmail())).status).toBe(401);
  });

  it("sign-in: right passwords do not use up an IP's failures", async () => {
    const u = await newUser();
    const ip = freshIp();
    for (let i = 0; i < 5; i++)
      expect((await signInFrom(ip, u.email, u.password)).status).toBe(200);
    expect((await signInFrom(ip, uniqueEmail())).status).toBe(401);
  });

  it('Wrong passwords slow down the address but never lock out the right password from another IP', async () => {
    // The victim is back-office staff: the API sign-in and the /admin login share the counters.
    const victim = await newUser();
    await t.db.update(users).set({ role: 'admin' }).where(eq(users.id, victim.user.id));
    const ipA = freshIp();
    expect((await signInFrom(ipA, victim.email)).status).toBe(401);
    expect(loginError((await adminLoginFrom(ipA, victim.email, 'wrong password')).res.text)).toBe(
      'invalidCredentials',
    );
    for (let i = 0; i < 5; i++) expect429(await signInFrom(ipA, victim.email));
    // More wrong passwords for the address from elsewhere put it well past its budget.
    for (let i = 0; i < 4; i++)
      expect((await signInFrom(freshIp(), victim.email)).status).toBe(401);

    // IP A itself is limited, even with the right password, on both forms.
    expect429(await signInFrom(ipA, victim.email, victim.password));
    const fromA = await adminLoginFrom(ipA, victim.email, victim.password);
    expect({ status: fromA.res.status, error: loginError(fromA.res.text) }).toEqual({
      status: 400,
      error: 'tooManyRequests',
    });
    expect(Number(fromA.res.headers['retry-after'])).toBeGreaterThan(0);

    // The right password from another IP signs in: API and /admin.
    const api = await signInFrom(freshIp(), victim.email, victim.password);
    expect(api.status).toBe(200);
    const { agent, res } = await adminLoginFrom(freshIp(), victim.email, victim.password);
    expect({ status: res.status, location: res.headers.location }).toEqual({
      status: 302,
      location: '/admin',
    });
    await agent.get('/admin/api/resources/users/actions/list').expect(200);
  });

  it('sign-up: per IP', async () => {
    const ip = freshIp();
    for (let i = 0; i < 3; i++) {
      await t.http
        .post('/api/v1/auth/sign-up')
        .set('X-Forwarded-For', ip)
        .send({ email: uniqueEmail(), password: DEFAULT_PASSWORD })
        .expect(201);
    }
    const email = uniqueEmail();
    expect429(
      await t.http
        .post('/api/v1/auth/sign-up')
        .set('X-Forwarded-For', ip)
        .send({ email, password: DEFAULT_PASSWORD }),
    );
  });

  it('password reset: per email, still answering nothing about the account', async () => {
    const email = uniqueEmail('reset');
    const reset = () =>
      t.http.post('/api/v1/auth/password-reset').set('X-Forwarded-For', freshIp()).send({ email });
    expect((await reset()).status).toBe(202);
    expect((await reset()).status).toBe(202);
    expect429(await reset());
  });

  it('a throttled route tells the client its budget: RateLimit-Policy and RateLimit, on success and on the 429', async () => {
    const ip = freshIp();
    const email = uniqueEmail('budget');
    const reset = () =>
      t.http
        .post('/api/v1/auth/password-reset')
        .set('X-Forwarded-For', ip)
        .set('Origin', CORS_ORIGIN)
        .send({ email });
    const policy = '"password-reset.ip";q=3;w=600, "password-reset.email";q=2;w=600';
    const remaining = (res: { headers: Record<string, string> }) =>
      /^"password-reset\.ip";r=(\d+);t=(\d+)$/.exec(res.headers['ratelimit'] ?? '');

    const first = await reset().expect(202);
    expect(first.headers['ratelimit-policy']).toBe(policy);
    const [, r1, t1] = remaining(first) ?? [];
    expect({ r: r1, header: first.headers['ratelimit'] }).toEqual({
      r: '2',
      header: expect.any(String),
    });
    expect(Number(t1)).toBeGreaterThan(0);
    expect(Number(t1)).toBeLessThanOrEqual(600);
    // The browser may read them (CORS).
    expect(first.headers['access-control-expose-headers']?.split(',')).toEqual(
      expect.arrayContaining(['RateLimit', 'RateLimit-Policy', 'Retry-After']),
    );
    // The address's counter (anyone may name the address) is shown only once it is used up.
    const second = await reset().expect(202);
    expect(second.headers['ratelimit']).toMatch(
      /^"password-reset\.ip";r=1;t=\d+, "password-reset\.email";r=0;t=\d+$/,
    );

    // Refused by the address's counter: it is shown used up, with its reset.
    const refused = await reset();
    expect429(refused);
    expect(refused.headers['ratelimit-policy']).toBe(policy);
    expect(refused.headers['ratelimit']).toMatch(
      /^"password-reset\.ip";r=0;t=\d+, "password-reset\.email";r=0;t=\d+$/,
    );
  });

  it("on a signed-in route the budget is the user's own counter too", async () => {
    const ip = freshIp();
    const res = await t.http
      .post('/api/v1/auth/sign-up')
      .set('X-Forwarded-For', ip)
      .send({ email: uniqueEmail('budget'), password: DEFAULT_PASSWORD })
      .expect(201);
    expect({
      policy: res.headers['ratelimit-policy'],
      limit: res.headers['ratelimit'],
    }).toEqual({
      policy: '"sign-up.ip";q=3;w=600, "sign-up.email";q=2;w=600',
      limit: expect.stringMatching(/^"sign-up\.ip";r=2;t=\d+$/),
    });
    const token = (res.body as { accessToken: string }).accessToken;
    const wrong = await t.http
      .put('/api/v1/users/me/password')
      .set('X-Forwarded-For', freshIp())
      .set('Authorization', bearer(token))
      .send({ currentPassword: 'a guess', newPassword: 'a brand new password' });
    expect(wrong.status).toBe(400);
    expect(wrong.headers['ratelimit-policy']).toBe(
      '"password-confirm.ip";q=3;w=600, "password-confirm.user";q=2;w=600',
    );
    expect(wrong.headers['ratelimit']).toMatch(
      /^"password-confirm\.ip";r=2;t=\d+, "password-confirm\.user";r=1;t=\d+$/,
    );
  });

  it('password change and account deletion: per signed-in user, counted together', async () => {
    const signUpFrom = async (ip: string) => {
      const res = await t.http
        .post('/api/v1/auth/sign-up')
        .set('X-Forwarded-For', ip)
        .send({ email: uniqueEmail('pw'), password: DEFAULT_PASSWORD })
        .expect(201);
      return res.body as { accessToken: string; user: { id: number } };
    };
    const u = await signUpFrom(freshIp());
    const [before] = await t.db.select().from(users).where(eq(users.id, u.user.id));
    const changePassword = (token: string, currentPassword: string) =>
      t.http
        .put('/api/v1/users/me/password')
        .set('X-Forwarded-For', freshIp())
        .set('Authorization', bearer(token))
        .send({ currentPassword, newPassword: 'a brand new password' });
    const deleteMe = (token: string, password: string) =>
      t.http
        .delete('/api/v1/users/me')
        .set('X-Forwarded-For', freshIp())
        .set('Authorization', bearer(token))
        .send({ password });

    const wrong = await changePassword(u.accessToken, 'guess one');
    expect({ status: wrong.status, code: (wrong.body as { code: string }).code }).toEqual({
      status: 400,
      code: 'auth.wrong_password',
    });
    expect((await deleteMe(u.accessToken, 'guess two')).status).toBe(400);
    // The third guess is refused before the password is checked, even the right one, on
    // either route and from any address.
    expect429(await changePassword(u.accessToken, DEFAULT_PASSWORD));
    expect429(await deleteMe(u.accessToken, DEFAULT_PASSWORD));
    const [after] = await t.db.select().from(users).where(eq(users.id, u.user.id));
    expect(after).toMatchObject({ passwordHash: before!.passwordHash, deletedAt: null });
    await t.http.get('/api/v1/users/me').set('Authorization', bearer(u.accessToken)).expect(200);

    // Another account is not affected.
    const v = await signUpFrom(freshIp());
    expect((await changePassword(v.accessToken, 'guess one')).status).toBe(400);
  });

  it.each([
    ['/api/v1/auth/verify-email', { token: 'not-a-real-token' }, 400],
    [
      '/api/v1/auth/password-reset/confirm',
      { token: 'not-a-real-token', newPassword: DEFAULT_PASSWORD },
      400,
    ],
    ['/api/v1/auth/sign-in/mfa', { mfaToken: 'not-a-real-token', code: '123456' }, 401],
    ['/api/v1/auth/oidc/exchange', { code: 'not-a-real-code' }, 400],
  ] as const)(
    'public token route %s: the fourth request from one IP is 429, another IP still passes',
    async (path, body, status) => {
      const ip = freshIp();
      const post = (from: string) => t.http.post(path).set('X-Forwarded-For', from).send(body);
      for (let i = 0; i < 3; i++) expect((await post(ip)).status).toBe(status);
      expect429(await post(ip));
      expect((await post(freshIp())).status).toBe(status);
    },
  );

  it('documents 429 with Retry-After on the throttled routes', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    const retryAfter = {
      description: 'Seconds to wait before retrying',
      required: true,
      schema: { type: 'integer', format: 'int32', minimum: 0 },
    };
    for (const [path, method] of [
      ['/api/v1/auth/sign-in', 'post'],
      ['/api/v1/auth/sign-up', 'post'],
      ['/api/v1/auth/password-reset', 'post'],
      ['/api/v1/users/me/password', 'put'],
      ['/api/v1/users/me', 'delete'],
      ['/api/v1/auth/verify-email', 'post'],
      ['/api/v1/auth/password-reset/confirm', 'post'],
      ['/api/v1/auth/sign-in/mfa', 'post'],
      ['/api/v1/auth/oidc/exchange', 'post'],
    ] as const) {
      expect({ path, headers: doc.paths[path][method].responses['429'].headers }).toEqual({
        path,
        headers:
          path === '/api/v1/auth/sign-in'
            ? { 'Retry-After': retryAfter }
            : {
                'Retry-After': retryAfter,
                'RateLimit-Policy': expect.objectContaining({ required: true }),
                RateLimit: expect.objectContaining({ required: true }),
              },
      });
    }
  });
});

/** Resolves once the app's rate-limit Redis client is connected. */
async function redisReady(t: TestApp): Promise<void> {
  // The service keeps its client private; its connection state is what this test waits on.
  const service: object = t.app.get(RateLimiterService);
  const client = (service as { redis: { status: string } }).redis;
  for (let i = 0; client.status !== 'ready'; i++) {
    if (i > 100) throw new Error(`rate-limit Redis client stuck in "${client.status}"`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const inCi = process.env.CI === 'true' || process.env.CI === '1';
const redisReachable = (await pingRedis('127.0.0.1', 6379)) || hasRedisServerBinary();
if (!redisReachable && !inCi) {
  process.stderr.write(`\n[rate-limit Redis] SKIPPED. ${REDIS_HOW_TO}\n\n`);
}

/**
 * With REDIS_URL, counts are shared between instances. Runs on the machine's Redis
 * (127.0.0.1:6379) or a `redis-server` of its own; without either it skips locally and fails
 * under CI=true.
 */
(redisReachable || inCi ? describe : describe.skip)('rate limits shared through Redis', () => {
  let redis: TestRedis | undefined;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    redis = await acquireRedis();
    if (redis === undefined) throw new Error(REDIS_HOW_TO);
    const env = { ...LIMITS, REDIS_URL: redis.url };
    a = await createTestApp({ env });
    b = await createTestApp({ env });
    // Until its client is connected an instance counts in memory (the insurance limiter):
    // start counting once both are connected.
    await Promise.all([redisReady(a), redisReady(b)]);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
  });

  it('two instances share one sign-in failure counter per IP + email', async () => {
    const email = uniqueEmail('shared');
    const ip = freshIp();
    const attempt = (t: TestApp) =>
      t.http
        .post('/api/v1/auth/sign-in')
        .set('X-Forwarded-For', ip)
        .send({ email, password: 'wrong password' });
    expect((await attempt(a)).status).toBe(401);
    expect((await attempt(b)).status).toBe(401);
    expect429(await attempt(a));
    expect429(await attempt(b));
  });
});
