import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { asc, eq } from 'drizzle-orm';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { TOTP } from 'otpauth';
import { openSecret } from '../../src/common/crypto/secret-box.js';
import { mfaChallenges, mfaRecoveryCodes, userTotp, users } from '../../src/database/schema.js';
import { activityRows } from '../support/activity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, signIn, signUpVerified, type SignedUp } from '../support/auth.js';
import { expect429 } from '../support/rate-limit.js';

const STEP_MS = 30_000;

/** The code of the step `offset` steps from now, computed from the secret as an app would. */
function codeAt(secret: string, offset = 0): string {
  return new TOTP({ secret }).generate({ timestamp: Date.now() + offset * STEP_MS });
}

/**
 * Waits (at most `marginMs`) until at least `marginMs` remain in the current 30 s step, so a
 * sequence of requests that reasons about "this step" does not straddle a step boundary.
 */
async function awayFromStepEdge(marginMs = 10_000): Promise<void> {
  const left = STEP_MS - (Date.now() % STEP_MS);
  if (left < marginMs) await sleep(left + 50);
}

describe('two-factor sign-in (TOTP)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  const auth = (token: string) => ({ Authorization: bearer(token) });

  async function enrol(u: { accessToken: string; password: string }): Promise<string> {
    const res = await t.http
      .post('/api/v1/users/me/mfa/totp')
      .set(auth(u.accessToken))
      .send({ password: u.password })
      .expect(200);
    return (res.body as { secret: string }).secret;
  }

  /** Signs up, enrols and confirms with the code of step `offset`; returns the secret and codes. */
  async function withMfa(offset = 0): Promise<SignedUp & { secret: string; recovery: string[] }> {
    const u = await signUpVerified(t);
    const secret = await enrol(u);
    const res = await t.http
      .post('/api/v1/users/me/mfa/totp/confirm')
      .set(auth(u.accessToken))
      .send({ code: codeAt(secret, offset) })
      .expect(200);
    return { ...u, secret, recovery: (res.body as { recoveryCodes: string[] }).recoveryCodes };
  }

  async function firstStep(email: string, password: string): Promise<string> {
    const res = await t.http.post('/api/v1/auth/sign-in').send({ email, password }).expect(200);
    expect(res.body).toEqual({ mfaRequired: true, mfaToken: expect.any(String) });
    return (res.body as { mfaToken: string }).mfaToken;
  }

  const secondStep = (mfaToken: string, code: string) =>
    t.http.post('/api/v1/auth/sign-in/mfa').send({ mfaToken, code });

  it('enrols with the password, confirms with a first code, stores the secret encrypted and the recovery codes hashed', async () => {
    const u = await signUpVerified(t);
    const other = await signIn(t, u.email, u.password);
    const me = await t.http.get('/api/v1/users/me').set(auth(u.accessToken)).expect(200);
    expect(me.body).toMatchObject({ mfaEnabled: false });

    const wrong = await t.http
      .post('/api/v1/users/me/mfa/totp')
      .set(auth(u.accessToken))
      .send({ password: 'not my password' })
      .expect(400);
    expect(wrong.body).toMatchObject({ code: 'auth.wrong_password' });

    const started = await t.http
      .post('/api/v1/users/me/mfa/totp')
      .set(auth(u.accessToken))
      .send({ password: u.password })
      .expect(200);
    const { secret, otpauthUrl } = started.body as { secret: string; otpauthUrl: string };
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const url = new URL(otpauthUrl);
    expect(url.searchParams.get('secret')).toBe(secret);
    expect(decodeURIComponent(url.pathname)).toBe(`/nest-saas:${u.email}`);

    // Stored sealed (AES-256-GCM with the configured key), never in clear.
    const [row] = await t.db.select().from(userTotp).where(eq(userTotp.userId, u.user.id));
    expect(row!.secretEncrypted).not.toContain(secret);
    expect(
      openSecret(t.config.mfa.encryptionKey, row!.secretEncrypted, `user_totp:${u.user.id}`),
    ).toBe(secret);

    // Not active yet: sign-in still gives tokens directly.
    const direct = await t.http
      .post('/api/v1/auth/sign-in')
      .send({ email: u.email, password: u.password })
      .expect(200);
    expect(direct.body).toHaveProperty('accessToken');

    const bad = await t.http
      .post('/api/v1/users/me/mfa/totp/confirm')
      .set(auth(u.accessToken))
      .send({ code: '000000' === codeAt(secret) ? '111111' : '000000' })
      .expect(400);
    expect(bad.body).toMatchObject({ code: 'mfa.invalid_code' });

    const confirmed = await t.http
      .post('/api/v1/users/me/mfa/totp/confirm')
      .set(auth(u.accessToken))
      .send({ code: codeAt(secret) })
      .expect(200);
    const codes = (confirmed.body as { recoveryCodes: string[] }).recoveryCodes;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);

    const stored = await t.db
      .select()
      .from(mfaRecoveryCodes)
      .where(eq(mfaRecoveryCodes.userId, u.user.id))
      .orderBy(asc(mfaRecoveryCodes.id));
    const sha = (code: string) => createHash('sha256').update(code.replace(/-/g, '')).digest('hex');
    expect(stored.map((r) => r.codeHash).sort()).toEqual(codes.map(sha).sort());

    // On: GET /users/me says so, the other sessions ended, this one stays, ENABLE_MFA written.
    const after = await t.http.get('/api/v1/users/me').set(auth(u.accessToken)).expect(200);
    expect(after.body).toMatchObject({ mfaEnabled: true });
    await t.http.get('/api/v1/users/me').set(auth(other.accessToken)).expect(401);
    await t.http
      .get('/api/v1/users/me')
      .set(auth((direct.body as { accessToken: string }).accessToken))
      .expect(401);
    const rows = await activityRows(t.db, { userId: u.user.id, action: 'ENABLE_MFA' });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.teamId).toBe(u.team.id);

    // Enrolling again while on: 409; confirming again: 409.
    const again = await t.http
      .post('/api/v1/users/me/mfa/totp')
      .set(auth(u.accessToken))
      .send({ password: u.password })
      .expect(409);
    expect(again.body).toMatchObject({ code: 'mfa.already_enabled' });
    await t.http
      .post('/api/v1/users/me/mfa/totp/confirm')
      .set(auth(u.accessToken))
      .send({ code: codeAt(secret, 1) })
      .expect(409);
  });

  it('answers 409 to a confirm without enrolment and to disabling while off', async () => {
    const u = await signUpVerified(t);
    const res = await t.http
      .post('/api/v1/users/me/mfa/totp/confirm')
      .set(auth(u.accessToken))
      .send({ code: '123456' })
      .expect(409);
    expect(res.body).toMatchObject({ code: 'mfa.not_pending' });
    const off = await t.http
      .delete('/api/v1/users/me/mfa/totp')
      .set(auth(u.accessToken))
      .send({ password: u.password, code: '123456' })
      .expect(409);
    expect(off.body).toMatchObject({ code: 'mfa.not_enabled' });
    await t.http
      .post('/api/v1/users/me/mfa/recovery-codes')
      .set(auth(u.accessToken))
      .send({ password: u.password, code: '123456' })
      .expect(409);
  });

  it('signs in in two steps: no tokens and no SIGN_IN before the code, a single-use mfaToken', async () => {
    const u = await withMfa(-1);
    const before = (await activityRows(t.db, { userId: u.user.id, action: 'SIGN_IN' })).length;
    const mfaToken = await firstStep(u.email, u.password);
    expect(await activityRows(t.db, { userId: u.user.id, action: 'SIGN_IN' })).toHaveLength(before);

    // The wrong password still gets the plain 401.
    await t.http
      .post('/api/v1/auth/sign-in')
      .send({ email: u.email, password: 'wrong password!' })
      .expect(401);

    const res = await secondStep(mfaToken, codeAt(u.secret)).expect(200);
    const body = res.body as { accessToken: string; user: { id: number; mfaEnabled: boolean } };
    expect(body.user).toMatchObject({ id: u.user.id, mfaEnabled: true });
    await t.http.get('/api/v1/users/me').set(auth(body.accessToken)).expect(200);
    expect(await activityRows(t.db, { userId: u.user.id, action: 'SIGN_IN' })).toHaveLength(
      before + 1,
    );

    // Used once: the same mfaToken is refused, even with a fresh code.
    const reused = await secondStep(mfaToken, codeAt(u.secret, 1)).expect(401);
    expect(reused.body).toMatchObject({ code: 'auth.invalid_mfa_token' });
    const forged = await secondStep('not-a-token', codeAt(u.secret)).expect(401);
    expect(forged.body).toMatchObject({ code: 'auth.invalid_mfa_token' });
  });

  it('refuses an expired mfaToken (5 minutes)', async () => {
    const u = await withMfa();
    const mfaToken = await firstStep(u.email, u.password);
    const hash = createHash('sha256').update(mfaToken).digest('hex');
    const [challenge] = await t.db
      .select()
      .from(mfaChallenges)
      .where(eq(mfaChallenges.tokenHash, hash));
    expect(challenge!.expiresAt.getTime() - challenge!.createdAt.getTime()).toBe(5 * 60_000);
    await t.db
      .update(mfaChallenges)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(mfaChallenges.tokenHash, hash));
    const res = await secondStep(mfaToken, codeAt(u.secret, 1)).expect(401);
    expect(res.body).toMatchObject({ code: 'auth.invalid_mfa_token' });
  });

  it('accepts codes within ±1 step, each step once (replays refused), and keeps a token usable after a wrong code', async () => {
    await awayFromStepEdge();
    // Confirmed with the previous step's code: -1 is accepted.
    const u = await withMfa(-1);

    const first = await firstStep(u.email, u.password);
    // That step is used: replay refused.
    const replay = await secondStep(first, codeAt(u.secret, -1)).expect(401);
    expect(replay.body).toMatchObject({ code: 'auth.invalid_mfa_code' });
    // Two steps ahead: outside the window.
    await secondStep(first, codeAt(u.secret, 2)).expect(401);
    // The token survived the wrong codes; the current step is accepted.
    await secondStep(first, codeAt(u.secret, 0)).expect(200);

    const second = await firstStep(u.email, u.password);
    await secondStep(second, codeAt(u.secret, 0)).expect(401);
    // The next step (clock drift) is accepted, once.
    await secondStep(second, codeAt(u.secret, 1)).expect(200);

    const third = await firstStep(u.email, u.password);
    await secondStep(third, codeAt(u.secret, 1)).expect(401);
    // An earlier step than the last accepted one: refused too.
    await secondStep(third, codeAt(u.secret, 0)).expect(401);
    const [row] = await t.db.select().from(userTotp).where(eq(userTotp.userId, u.user.id));
    expect(row!.lastUsedStep).toBe(Math.floor(Date.now() / STEP_MS) + 1);
  });

  it('signs in with a recovery code once; new codes replace the old ones', async () => {
    const u = await withMfa();
    const [code0, code1] = u.recovery as [string, string];

    const a = await firstStep(u.email, u.password);
    // Case, spaces and dashes do not matter.
    await secondStep(a, ` ${code0.toUpperCase().replace('-', ' ')} `).expect(200);
    const b = await firstStep(u.email, u.password);
    const used = await secondStep(b, code0).expect(401);
    expect(used.body).toMatchObject({ code: 'auth.invalid_mfa_code' });
    await secondStep(b, 'aaaa-bbbb-cccc').expect(401);

    // New codes need password and code.
    await t.http
      .post('/api/v1/users/me/mfa/recovery-codes')
      .set(auth(u.accessToken))
      .send({ password: 'wrong password!', code: code1 })
      .expect(400);
    const res = await t.http
      .post('/api/v1/users/me/mfa/recovery-codes')
      .set(auth(u.accessToken))
      .send({ password: u.password, code: code1 })
      .expect(200);
    const fresh = (res.body as { recoveryCodes: string[] }).recoveryCodes;
    expect(fresh).toHaveLength(10);
    expect(fresh).not.toContain(u.recovery[2]);

    const c = await firstStep(u.email, u.password);
    await secondStep(c, u.recovery[2]!).expect(401);
    await secondStep(c, fresh[0]!).expect(200);
    const remaining = await t.db
      .select()
      .from(mfaRecoveryCodes)
      .where(eq(mfaRecoveryCodes.userId, u.user.id));
    expect(remaining).toHaveLength(10);
    expect(remaining.filter((r) => r.usedAt !== null)).toHaveLength(1);
  });

  it('turns off with password and code while signed in: an outstanding mfaToken dies, sign-in is one step again', async () => {
    const u = await withMfa(-1);
    const pending = await firstStep(u.email, u.password);

    const wrongPassword = await t.http
      .delete('/api/v1/users/me/mfa/totp')
      .set(auth(u.accessToken))
      .send({ password: 'wrong password!', code: codeAt(u.secret) })
      .expect(400);
    expect(wrongPassword.body).toMatchObject({ code: 'auth.wrong_password' });
    const wrongCode = await t.http
      .delete('/api/v1/users/me/mfa/totp')
      .set(auth(u.accessToken))
      .send({ password: u.password, code: codeAt(u.secret, 5) })
      .expect(400);
    expect(wrongCode.body).toMatchObject({ code: 'mfa.invalid_code' });

    await t.http
      .delete('/api/v1/users/me/mfa/totp')
      .set(auth(u.accessToken))
      .send({ password: u.password, code: codeAt(u.secret) })
      .expect(204);

    // This session goes on; MFA is off; its rows are gone.
    const me = await t.http.get('/api/v1/users/me').set(auth(u.accessToken)).expect(200);
    expect(me.body).toMatchObject({ mfaEnabled: false });
    expect(await activityRows(t.db, { userId: u.user.id, action: 'DISABLE_MFA' })).toHaveLength(1);
    expect(await t.db.select().from(userTotp).where(eq(userTotp.userId, u.user.id))).toEqual([]);
    expect(
      await t.db.select().from(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, u.user.id)),
    ).toEqual([]);
    const [user] = await t.db.select().from(users).where(eq(users.id, u.user.id));
    expect(user!.mfaEnabledAt).toBeNull();

    // The sign-in step started before cannot be finished any more.
    const res = await secondStep(pending, codeAt(u.secret, 1)).expect(401);
    expect(res.body).toMatchObject({ code: 'auth.invalid_mfa_token' });
    const direct = await t.http
      .post('/api/v1/auth/sign-in')
      .send({ email: u.email, password: u.password })
      .expect(200);
    expect(direct.body).toHaveProperty('accessToken');
  });

  it('requires a token for the settings routes', async () => {
    await t.http.post('/api/v1/users/me/mfa/totp').send({ password: 'x' }).expect(401);
    await t.http.post('/api/v1/users/me/mfa/totp/confirm').send({ code: '123456' }).expect(401);
  });
});

describe('two-factor sign-in: wrong codes are rate limited per user', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      env: { RATE_LIMIT_PER_EMAIL: '3', RATE_LIMIT_PER_IP: '1000', RATE_LIMIT_WINDOW: '300' },
    });
  });

  afterAll(async () => {
    await t.close();
  });

  it('refuses even the right code with 429 + Retry-After after the allowance; other users are unaffected', async () => {
    const enrolled = async () => {
      const u = await signUpVerified(t);
      const started = await t.http
        .post('/api/v1/users/me/mfa/totp')
        .set('Authorization', bearer(u.accessToken))
        .send({ password: u.password })
        .expect(200);
      const secret = (started.body as { secret: string }).secret;
      await t.http
        .post('/api/v1/users/me/mfa/totp/confirm')
        .set('Authorization', bearer(u.accessToken))
        .send({ code: codeAt(secret, -1) })
        .expect(200);
      return { ...u, secret };
    };
    const u = await enrolled();
    const other = await enrolled();
    const step1 = async (email: string, password: string) =>
      (
        (await t.http.post('/api/v1/auth/sign-in').send({ email, password }).expect(200)).body as {
          mfaToken: string;
        }
      ).mfaToken;

    const token = await step1(u.email, u.password);
    const wrong = codeAt(u.secret, 3);
    for (let i = 0; i < 3; i++) {
      await t.http
        .post('/api/v1/auth/sign-in/mfa')
        .send({ mfaToken: token, code: wrong })
        .expect(401);
    }
    const limited = await t.http
      .post('/api/v1/auth/sign-in/mfa')
      .send({ mfaToken: token, code: codeAt(u.secret) })
      .expect(429);
    expect429(limited);
    // The settings routes share the allowance.
    const settings = await t.http
      .post('/api/v1/users/me/mfa/recovery-codes')
      .set('Authorization', bearer(u.accessToken))
      .send({ password: u.password, code: codeAt(u.secret) })
      .expect(429);
    expect429(settings);

    const otherToken = await step1(other.email, other.password);
    await t.http
      .post('/api/v1/auth/sign-in/mfa')
      .send({ mfaToken: otherToken, code: codeAt(other.secret) })
      .expect(200);
  });
});
