import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { eq } from 'drizzle-orm';
import { users } from '../../src/database/schema.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, DEFAULT_PASSWORD, signUp } from '../support/auth.js';

const LIMITS = {
  TRUST_PROXY: 'true',
  RATE_LIMIT_PER_IP: '3',
  RATE_LIMIT_PER_EMAIL: '2',
  RATE_LIMIT_WINDOW: '600',
};

let ipCounter = 0;
/** A fresh client address per test (TRUST_PROXY is on), so tests do not share IP counters. */
const freshIp = () => `198.51.100.${++ipCounter}`;

function expect429(res: { status: number; body: unknown; headers: Record<string, string> }) {
  expect({ status: res.status, body: res.body }).toEqual({
    status: 429,
    body: {
      statusCode: 429,
      error: 'Too Many Requests',
      code: 'request.rate_limited',
      message: expect.stringMatching(/^Too many attempts, try again in \d+ s$/),
    },
  });
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(600);
}

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

const redisServer = spawnSync('redis-server', ['--version']).status === 0;

/** With REDIS_URL, counts are shared between instances. Needs a local `redis-server` binary. */
(redisServer ? describe : describe.skip)('rate limits shared through Redis', () => {
  let redis: ChildProcess;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    await new Promise((r) => setTimeout(r, 300));
    const env = { ...LIMITS, REDIS_URL: `redis://127.0.0.1:${port}` };
    a = await createTestApp({ env });
    b = await createTestApp({ env });
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    redis?.kill();
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
