import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import { randomInt } from 'node:crypto';
import { RateLimiterService } from '../../src/common/rate-limit/rate-limiter.service.js';
import { users } from '../../src/database/schema.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, DEFAULT_PASSWORD, signUp } from '../support/auth.js';
import { expect429 } from '../support/rate-limit.js';
import {
  acquireRedis,
  hasRedisServerBinary,
  pingRedis,
  REDIS_HOW_TO,
  type TestRedis,
} from '../support/redis.js';

const LIMITS = {
  TRUST_PROXY: 'true',
  RATE_LIMIT_PER_IP: '3',
  RATE_LIMIT_PER_EMAIL: '2',
  RATE_LIMIT_WINDOW: '600',
};

let ipCounter = 0;
/**
 * A fresh client address per test (TRUST_PROXY is on), so tests do not share IP counters,
 * not even with earlier runs on the machine's Redis (its counters live for the window).
 */
const ipBase = `10.${randomInt(256)}.${randomInt(256)}`;
const freshIp = () => `${ipBase}.${++ipCounter}`;

describe('rate limits (RATE_LIMIT_PER_IP=3, RATE_LIMIT_PER_EMAIL=2)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: LIMITS });
  });

  afterAll(async () => {
    await t.close();
  });

  const signInFrom = (ip: string, email: string, password = 'wrong password') =>
    t.http.post('/api/v1/auth/sign-in').set('X-Forwarded-For', ip).send({ email, password });

  it('sign-in: the third attempt for one email is 429 with Retry-After, even with the right password', async () => {
    const u = await signUp(t);
    expect((await signInFrom(freshIp(), u.email)).status).toBe(401);
    expect((await signInFrom(freshIp(), u.email)).status).toBe(401);
    expect429(await signInFrom(freshIp(), u.email, u.password));
    // Normalized: case and spaces do not give a new counter.
    expect429(await signInFrom(freshIp(), ` ${u.email.toUpperCase()}`, u.password));
  });

  it('sign-in: the fourth attempt from one IP is 429 whatever the email', async () => {
    const ip = freshIp();
    for (let i = 0; i < 3; i++) expect((await signInFrom(ip, uniqueEmail())).status).toBe(401);
    expect429(await signInFrom(ip, uniqueEmail()));
    // Another client is not affected.
    expect((await signInFrom(freshIp(), uniqueEmail())).status).toBe(401);
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

  it('documents 429 with Retry-After on the throttled routes', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    const retryAfter = {
      description: 'Seconds to wait before retrying',
      required: true,
      schema: { type: 'integer', minimum: 0 },
    };
    for (const [path, method] of [
      ['/api/v1/auth/sign-in', 'post'],
      ['/api/v1/auth/sign-up', 'post'],
      ['/api/v1/auth/password-reset', 'post'],
      ['/api/v1/users/me/password', 'put'],
      ['/api/v1/users/me', 'delete'],
    ] as const) {
      expect({ path, headers: doc.paths[path][method].responses['429'].headers }).toEqual({
        path,
        headers: { 'Retry-After': retryAfter },
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

  it('two instances share one counter per email', async () => {
    const email = uniqueEmail('shared');
    const attempt = (t: TestApp) =>
      t.http
        .post('/api/v1/auth/sign-in')
        .set('X-Forwarded-For', freshIp())
        .send({ email, password: 'wrong password' });
    expect((await attempt(a)).status).toBe(401);
    expect((await attempt(b)).status).toBe(401);
    expect429(await attempt(a));
    expect429(await attempt(b));
  });
});
