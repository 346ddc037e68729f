import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import argon2 from 'argon2';
import supertest from 'supertest';
import { TOTP } from 'otpauth';
import { users } from '../../src/database/schema.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, signIn } from '../support/auth.js';

/** The login page's error (a locale key): AdminJS renders the page client-side from __APP_STATE__. */
function loginError(html: string): string | null | undefined {
  const match = /window\.__APP_STATE__ = JSON\.parse\('(.*)'\);/.exec(html);
  if (!match) return undefined;
  const state = JSON.parse(match[1]!.replace(/\\"/g, '"')) as { errorMessage: string | null };
  return state.errorMessage;
}

const codeAt = (secret: string, offset = 0) =>
  new TOTP({ secret }).generate({ timestamp: Date.now() + offset * 30_000 });

describe('admin panel sign-in with two-factor sign-in on', () => {
  let t: TestApp;
  let admin: { email: string; password: string; secret: string; recovery: string[] };

  beforeAll(async () => {
    t = await createTestApp();
    const email = uniqueEmail('mfa-admin');
    const password = 'admin-password-1';
    const passwordHash = await argon2.hash(password, {
      type: argon2.argon2id,
      memoryCost: 19_456,
      timeCost: 2,
      parallelism: 1,
    });
    await t.db.insert(users).values({
      email,
      passwordHash,
      role: 'admin',
      name: 'MFA Admin',
      emailVerifiedAt: new Date(),
    });
    // MFA switched on through the API, as the admin would.
    const session = await signIn(t, email, password);
    const started = await t.http
      .post('/api/v1/users/me/mfa/totp')
      .set('Authorization', bearer(session.accessToken))
      .send({ password })
      .expect(200);
    const secret = (started.body as { secret: string }).secret;
    const confirmed = await t.http
      .post('/api/v1/users/me/mfa/totp/confirm')
      .set('Authorization', bearer(session.accessToken))
      .send({ code: codeAt(secret, -1) })
      .expect(200);
    admin = {
      email,
      password,
      secret,
      recovery: (confirmed.body as { recoveryCodes: string[] }).recoveryCodes,
    };
  });

  afterAll(async () => {
    await t.close();
  });

  async function login(fields: Record<string, string>) {
    const agent = supertest.agent(t.app.getHttpServer());
    const res = await agent.post('/admin/login').type('form').send(fields);
    const panel = await agent.get('/admin/api/resources/users/actions/list');
    return { res, signedIn: panel.status === 200 };
  }

  it('serves the login page with its two-factor code field (our Login override)', async () => {
    const page = await t.http.get('/admin/login').expect(200);
    expect(loginError(page.text)).toBeNull();
    expect(page.text).toContain('components.bundle.js');
    const bundle = await t.http.get('/admin/frontend/assets/components.bundle.js').expect(200);
    expect(bundle.text).toContain('one-time-code');
  });

  it('refuses the right password without a code, and with a wrong one', async () => {
    const missing = await login({ email: admin.email, password: admin.password });
    expect(missing.res.status).toBe(400);
    expect(loginError(missing.res.text)).toBe('mfaCodeRequired');
    expect(missing.signedIn).toBe(false);

    const wrong = await login({
      email: admin.email,
      password: admin.password,
      code: codeAt(admin.secret, 4),
    });
    expect(wrong.res.status).toBe(400);
    expect(loginError(wrong.res.text)).toBe('mfaCodeInvalid');
    expect(wrong.signedIn).toBe(false);

    // A wrong password says nothing about MFA, code or not.
    const badPassword = await login({
      email: admin.email,
      password: 'not the password',
      code: codeAt(admin.secret),
    });
    expect(loginError(badPassword.res.text)).toBe('invalidCredentials');
    expect(badPassword.signedIn).toBe(false);
  });

  it('signs in with a current code once (a replay is refused) and with a recovery code', async () => {
    const code = codeAt(admin.secret, 1);
    const ok = await login({ email: admin.email, password: admin.password, code });
    expect({ status: ok.res.status, location: ok.res.headers.location }).toEqual({
      status: 302,
      location: '/admin',
    });
    expect(ok.signedIn).toBe(true);

    const replay = await login({ email: admin.email, password: admin.password, code });
    expect(loginError(replay.res.text)).toBe('mfaCodeInvalid');
    expect(replay.signedIn).toBe(false);

    const recovery = await login({
      email: admin.email,
      password: admin.password,
      code: admin.recovery[0]!,
    });
    expect(recovery.res.status).toBe(302);
    expect(recovery.signedIn).toBe(true);
  });
});
