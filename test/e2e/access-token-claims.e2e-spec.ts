import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import { createHmac } from 'node:crypto';
import { sessions } from '../../src/database/schema.js';
import { JWT_CLOCK_SKEW_SECONDS } from '../../src/modules/auth/jwt.strategy.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, signUp, type SignedUp } from '../support/auth.js';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An HS256 JWT built by hand, so that any claim can be left out or set to anything. */
function forge(payload: Record<string, unknown>, secret: string): string {
  const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
  const signature = createHmac('sha256', secret).update(unsigned).digest('base64url');
  return `${unsigned}.${signature}`;
}

/** Tokens signed with the app's own key: the claims alone decide. */
describe('access tokens forged with the right key', () => {
  let t: TestApp;
  let u: SignedUp;
  let base: Record<string, unknown>;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    t = await createTestApp();
    u = await signUp(t);
    base = {
      sub: String(u.user.id),
      sid: u.refreshToken.split('.')[0],
      iss: t.config.jwt.issuer,
      aud: t.config.jwt.audience,
    };
  });

  afterAll(async () => {
    await t.close();
  });

  const me = (claims: Record<string, unknown>) =>
    t.http.get('/api/v1/users/me').set('Authorization', bearer(forge(claims, t.config.jwt.secret)));

  it('with iat and exp like ours: 200 (control)', async () => {
    await me({ ...base, iat: now(), exp: now() + 900 }).expect(200);
  });

  it('without exp: 401', async () => {
    const res = await me({ ...base, iat: now() }).expect(401);
    expect(res.body.code).toBe('auth.unauthorized');
  });

  it('without iat: 401', async () => {
    await me({ ...base, exp: now() + 900 }).expect(401);
  });

  it(`iat in the future: 401 beyond ${JWT_CLOCK_SKEW_SECONDS} s of clock skew, 200 within`, async () => {
    await me({ ...base, iat: now() + 600, exp: now() + 1500 }).expect(401);
    await me({ ...base, iat: now() + 5, exp: now() + 900 }).expect(200);
  });

  it('non-numeric iat or exp: 401', async () => {
    await me({ ...base, iat: String(now()), exp: now() + 900 }).expect(401);
    await me({ ...base, iat: now(), exp: String(now() + 900) }).expect(401);
  });

  it('without sub, sid, iss or aud: 401', async () => {
    const times = { iat: now(), exp: now() + 900 };
    for (const claim of ['sub', 'sid', 'iss', 'aud']) {
      const claims: Record<string, unknown> = { ...base, ...times };
      delete claims[claim];
      expect({ claim, status: (await me(claims)).status }).toEqual({ claim, status: 401 });
    }
  });

  it('exp far beyond the access lifetime: refused once older than JWT_ACCESS_TTL', async () => {
    const tenYears = 10 * 365 * 86_400;
    await me({ ...base, iat: now(), exp: now() + tenYears }).expect(200);
    const old = now() - t.config.jwt.accessTtlSeconds - 5;
    await me({ ...base, iat: old, exp: now() + tenYears }).expect(401);
  });

  it('a token accepted before is refused once its exp or its access lifetime has passed', async () => {
    // Accepted tokens are remembered (VerifiedTokens); the time checks must still apply.
    const start = now();
    const byExp = { ...base, iat: start, exp: start + 2 };
    const byAge = {
      ...base,
      iat: start - t.config.jwt.accessTtlSeconds + 2,
      exp: start + 10 * 365 * 86_400,
    };
    for (const claims of [byExp, byAge]) {
      await me(claims).expect(200);
      await me(claims).expect(200);
    }
    // The second from which both are expired, then a little more.
    await new Promise((resolve) =>
      setTimeout(resolve, (start + 2 - Date.now() / 1000) * 1000 + 50),
    );
    expect(now()).toBeGreaterThanOrEqual(start + 2);
    for (const claims of [byExp, byAge]) {
      const res = await me(claims).expect(401);
      expect(res.body.code).toBe('auth.unauthorized');
    }
  });

  it("exp far beyond the session's life: the session's expiry and revocation still hold", async () => {
    const v = await signUp(t);
    const sid = v.refreshToken.split('.')[0]!;
    const claims = {
      ...base,
      sub: String(v.user.id),
      sid,
      iat: now(),
      exp: now() + 10 * 365 * 86_400,
    };
    await me(claims).expect(200);

    // The session expires (its refresh lifetime is over): the long-lived token stops at once.
    await t.db
      .update(sessions)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(sessions.id, sid));
    await me(claims).expect(401);

    // Revocation (sign-out) likewise, for another session whose expiry is still ahead.
    const w = await signUp(t);
    const wClaims = {
      ...base,
      sub: String(w.user.id),
      sid: w.refreshToken.split('.')[0],
      iat: now(),
      exp: now() + 10 * 365 * 86_400,
    };
    await me(wClaims).expect(200);
    await t.http
      .post('/api/v1/auth/sign-out')
      .set('Authorization', bearer(w.accessToken))
      .expect(204);
    await me(wClaims).expect(401);
  });
});
