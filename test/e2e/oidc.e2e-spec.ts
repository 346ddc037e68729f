import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import {
  activityLogs,
  oidcExchangeCodes,
  oidcIdentities,
  oidcLoginFlows,
  teamMembers,
  users,
} from '../../src/database/schema.js';
import { LOG_DESTINATION } from '../../src/common/logging/logging.module.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { LogCapture } from '../support/logs.js';
import { expect429 } from '../support/rate-limit.js';
import { bearer, DEFAULT_PASSWORD, signIn, signUp, signUpVerified } from '../support/auth.js';
import {
  startOpenIdProvider,
  type OpAccount,
  type TestOpenIdProvider,
} from '../support/oidc-provider.js';

/** ASCII text in fullwidth forms (U+FF01..U+FF5E). */
function fullwidth(text: string): string {
  return text.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
}

const API_URL = 'http://api.example.test';
const APP_URL = 'https://app.example.test';
const CALLBACK = `${API_URL}/api/v1/auth/oidc/test/callback`;

interface Hop {
  status: number;
  location: string | undefined;
}

/**
 * A browser for redirect flows: one cookie jar per host (paths ignored, enough here), the
 * app reached through supertest under API_URL's host, the provider over real HTTP.
 */
class Browser {
  private readonly jars = new Map<string, Map<string, string>>();

  constructor(private readonly t: TestApp) {}

  cookie(host: string, name: string): string | undefined {
    return this.jars.get(host)?.get(name);
  }

  async get(url: string): Promise<Hop> {
    const target = new URL(url);
    const cookieHeader = [...(this.jars.get(target.host) ?? new Map<string, string>())]
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
    let status: number;
    let location: string | undefined;
    let setCookies: string[];
    if (target.origin === API_URL) {
      const req = this.t.http.get(target.pathname + target.search);
      if (cookieHeader !== '') void req.set('Cookie', cookieHeader);
      const res = await req;
      status = res.status;
      location = res.headers.location;
      const raw = res.headers['set-cookie'] as unknown;
      setCookies = Array.isArray(raw) ? (raw as string[]) : [];
    } else {
      const res = await fetch(target, {
        redirect: 'manual',
        headers: cookieHeader === '' ? {} : { cookie: cookieHeader },
      });
      status = res.status;
      location = res.headers.get('location') ?? undefined;
      setCookies = res.headers.getSetCookie();
      await res.arrayBuffer();
    }
    const jar = this.jars.get(target.host) ?? new Map<string, string>();
    this.jars.set(target.host, jar);
    for (const header of setCookies) {
      const [pair = '', ...attributes] = header.split(';').map((part) => part.trim());
      const [name = '', ...rest] = pair.split('=');
      const value = rest.join('=');
      const expired = attributes.some(
        (a) =>
          /^max-age=0$/i.test(a) ||
          (/^expires=/i.test(a) && new Date(a.slice(8)).getTime() < Date.now()),
      );
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    return { status, location: location && new URL(location, target).href };
  }
}

describe('OpenID Connect sign-in (e2e, against oidc-provider)', () => {
  let op: TestOpenIdProvider;
  let t: TestApp;
  const log = new LogCapture();

  beforeAll(async () => {
    op = await startOpenIdProvider(CALLBACK);
    t = await createTestApp({
      env: {
        APP_URL,
        API_URL,
        OIDC_PROVIDERS: 'test',
        OIDC_TEST_ISSUER: op.issuer,
        OIDC_TEST_CLIENT_ID: op.clientId,
        OIDC_TEST_CLIENT_SECRET: op.clientSecret,
        OIDC_TEST_NAME: 'Test OP',
        OIDC_ALLOW_INSECURE: 'true',
        LOG_LEVEL: 'info',
      },
      override: (builder) => builder.overrideProvider(LOG_DESTINATION).useValue(log),
    });
  });

  afterAll(async () => {
    await t.close();
    await op.close();
  });

  function account(overrides: Partial<OpAccount> = {}): Required<OpAccount> {
    return {
      sub: `sub-${randomBytes(6).toString('hex')}`,
      email: uniqueEmail('oidc'),
      email_verified: true,
      name: 'Ada Provider',
      ...overrides,
    };
  }

  /**
   * Starts a sign-in at the app and follows the redirects through the provider (login and
   * consent finish at once for `who`) up to the provider's redirect back to the callback,
   * which it returns without following.
   */
  async function toCallback(browser: Browser, who: OpAccount): Promise<string> {
    op.loginAs(who);
    const start = await browser.get(`${API_URL}/api/v1/auth/oidc/test/authorize`);
    expect(start.status).toBe(302);
    let location = start.location!;
    expect(location.startsWith(`${op.issuer}/`)).toBe(true);
    for (let hops = 0; !location.startsWith(CALLBACK); hops++) {
      expect(hops).toBeLessThan(10);
      const hop = await browser.get(location);
      expect([302, 303]).toContain(hop.status);
      location = hop.location!;
    }
    return location;
  }

  /** The callback's answer: a 303 to APP_URL/auth/callback with `code` or `error`. */
  async function callback(browser: Browser, url: string): Promise<URLSearchParams> {
    const res = await browser.get(url);
    expect(res.status).toBe(303);
    const target = new URL(res.location!);
    expect(`${target.origin}${target.pathname}`).toBe(`${APP_URL}/auth/callback`);
    return target.searchParams;
  }

  async function signInWith(who: OpAccount): Promise<URLSearchParams> {
    const browser = new Browser(t);
    return callback(browser, await toCallback(browser, who));
  }

  const exchange = (code: string) => t.http.post('/api/v1/auth/oidc/exchange').send({ code });

  async function identitiesOf(sub: string) {
    return t.db
      .select()
      .from(oidcIdentities)
      .where(and(eq(oidcIdentities.issuer, op.issuer), eq(oidcIdentities.subject, sub)));
  }

  async function actionsOf(userId: number): Promise<string[]> {
    const rows = await t.db
      .select({ action: activityLogs.action })
      .from(activityLogs)
      .where(eq(activityLogs.userId, userId))
      .orderBy(activityLogs.id);
    return rows.map((r) => r.action);
  }

  it('lists the configured providers', async () => {
    const res = await t.http.get('/api/v1/auth/providers').expect(200);
    expect(res.body).toEqual([{ id: 'test', name: 'Test OP' }]);
  });

  it('answers 404 for an unknown provider on authorize and callback', async () => {
    for (const path of ['authorize', 'callback?code=x&state=y']) {
      const res = await t.http.get(`/api/v1/auth/oidc/nope/${path}`).expect(404);
      expect(res.body.code).toBe('oidc.unknown_provider');
    }
  });

  it('authorize sends the browser to the provider with PKCE, state and nonce, bound by a cookie', async () => {
    const res = await t.http.get('/api/v1/auth/oidc/test/authorize').expect(302);
    const url = new URL(res.headers.location as string);
    expect(url.origin).toBe(op.issuer);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: op.clientId,
      redirect_uri: CALLBACK,
      response_type: 'code',
      scope: 'openid email profile',
      code_challenge_method: 'S256',
    });
    for (const param of ['state', 'nonce', 'code_challenge']) {
      expect(url.searchParams.get(param)).toMatch(/^[\w-]{40,}$/);
    }
    const cookie = (res.headers['set-cookie'] as unknown as string[]).join('\n');
    expect(cookie).toMatch(/^oidc_flow=[0-9a-f-]{36}\.[\w-]{43}; /);
    expect(cookie).toContain('Path=/api/v1/auth/oidc/test/');
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
  });

  it('signs up a new user: email verified, own team, SIGN_UP + CREATE_TEAM, no usable password', async () => {
    const who = account();
    const params = await signInWith(who);
    expect(params.get('error')).toBeNull();
    const code = params.get('code')!;
    expect(code).toMatch(/^[\w-]{43}$/);

    const res = await exchange(code).expect(200);
    expect(res.body).toMatchObject({
      tokenType: 'Bearer',
      user: { email: who.email, name: 'Ada Provider', emailVerified: true },
    });
    const userId = res.body.user.id as number;
    const me = await t.http
      .get('/api/v1/users/me')
      .set('Authorization', bearer(res.body.accessToken as string))
      .expect(200);
    expect(me.body.memberships).toEqual([
      expect.objectContaining({ teamName: `${who.email}'s Team`, role: 'owner' }),
    ]);
    expect(await actionsOf(userId)).toEqual(['SIGN_UP', 'CREATE_TEAM']);
    const [identity] = await identitiesOf(who.sub);
    expect(identity).toMatchObject({ userId, provider: 'test', email: who.email });

    // No password works until a reset sets one: the ordinary 401.
    for (const password of [DEFAULT_PASSWORD, '', 'x'.repeat(8)]) {
      const attempt = await t.http
        .post('/api/v1/auth/sign-in')
        .send({ email: who.email, password: password || 'anything' })
        .expect(401);
      expect(attempt.body.code).toBe('auth.invalid_credentials');
    }
  });

  it('signs a returning identity in as the same user, with SIGN_IN', async () => {
    const who = account();
    const first = await exchange((await signInWith(who)).get('code')!).expect(200);
    const userId = first.body.user.id as number;

    const second = await exchange((await signInWith(who)).get('code')!).expect(200);
    expect(second.body.user.id).toBe(userId);
    expect(second.body.refreshToken).not.toBe(first.body.refreshToken);
    expect(await actionsOf(userId)).toEqual(['SIGN_UP', 'CREATE_TEAM', 'SIGN_IN']);
    expect(await t.db.select().from(users).where(eq(users.email, who.email))).toHaveLength(1);
    expect(
      await t.db.select().from(teamMembers).where(eq(teamMembers.userId, userId)),
    ).toHaveLength(1);
    expect(await identitiesOf(who.sub)).toHaveLength(1);
  });

  it('lets the identity of a deleted account start over as a new user', async () => {
    const who = account();
    const first = await exchange((await signInWith(who)).get('code')!).expect(200);
    const oldId = first.body.user.id as number;
    // As account deletion leaves it: deletedAt set, the address rewritten.
    await t.db
      .update(users)
      .set({ deletedAt: new Date(), email: `deleted-${oldId}@deleted.invalid` })
      .where(eq(users.id, oldId));
    const again = await exchange((await signInWith(who)).get('code')!).expect(200);
    expect(again.body.user.id).not.toBe(oldId);
    const identities = await identitiesOf(who.sub);
    expect(identities.map((i) => i.userId)).toEqual([again.body.user.id]);
  });

  it('links a new identity to the existing user whose email is verified on both sides', async () => {
    const existing = await signUpVerified(t);
    const who = account({ email: existing.email, email_verified: true });
    const res = await exchange((await signInWith(who)).get('code')!).expect(200);
    expect(res.body.user.id).toBe(existing.user.id);
    const [identity] = await identitiesOf(who.sub);
    expect(identity?.userId).toBe(existing.user.id);
    expect((await actionsOf(existing.user.id)).at(-1)).toBe('SIGN_IN');
    // The password still works; linking adds a way in.
    await signIn(t, existing.email, existing.password);
  });

  it('refuses to link an account whose email is not verified here (oidc.account_exists)', async () => {
    const existing = await signUp(t);
    const who = account({ email: existing.email, email_verified: true });
    const params = await signInWith(who);
    expect(params.get('error')).toBe('oidc.account_exists');
    expect(params.get('code')).toBeNull();
    expect(await identitiesOf(who.sub)).toHaveLength(0);
    expect(await actionsOf(existing.user.id)).toEqual(['SIGN_UP', 'CREATE_TEAM']);
  });

  it('refuses to link when the provider does not vouch for the email (oidc.account_exists)', async () => {
    const existing = await signUpVerified(t);
    const who = account({ email: existing.email, email_verified: false });
    expect((await signInWith(who)).get('error')).toBe('oidc.account_exists');
    expect(await identitiesOf(who.sub)).toHaveLength(0);
  });

  it('signs up a new user whose address the provider does not vouch for as unverified', async () => {
    const who = account({ email_verified: false });
    const res = await exchange((await signInWith(who)).get('code')!).expect(200);
    expect(res.body.user).toMatchObject({ email: who.email, emailVerified: false });
    expect(await actionsOf(res.body.user.id as number)).toEqual(['SIGN_UP', 'CREATE_TEAM']);
  });

  it('refuses an identity without an email address (oidc.email_missing)', async () => {
    const { sub } = account();
    expect((await signInWith({ sub })).get('error')).toBe('oidc.email_missing');
    expect(await identitiesOf(sub)).toHaveLength(0);
  });

  it('refuses a provider address with an invisible character (oidc.email_missing)', async () => {
    const email = uniqueEmail('oidc-zwsp');
    const who = account({ email: `${email}\u200b` });
    expect((await signInWith(who)).get('error')).toBe('oidc.email_missing');
    expect(await identitiesOf(who.sub)).toHaveLength(0);
    expect(await t.db.select().from(users).where(eq(users.email, email))).toHaveLength(0);
  });

  it('does not link the fullwidth form of a verified address to its account (oidc.account_exists)', async () => {
    // At the provider that is another mailbox, which it may well have verified.
    const existing = await signUpVerified(t);
    const who = account({ email: fullwidth(existing.email), email_verified: true });
    expect((await signInWith(who)).get('error')).toBe('oidc.account_exists');
    expect(await identitiesOf(who.sub)).toHaveLength(0);
  });

  it('signs a fullwidth provider address up as its ASCII form, not verified', async () => {
    const email = uniqueEmail('oidc-wide');
    const who = account({ email: fullwidth(email), email_verified: true });
    const res = await exchange((await signInWith(who)).get('code')!).expect(200);
    expect(res.body.user).toMatchObject({ email, emailVerified: false });
  });

  it('refuses a callback whose state does not match (oidc.invalid_state), using the flow up', async () => {
    const browser = new Browser(t);
    const url = new URL(await toCallback(browser, account()));
    const good = url.href;
    url.searchParams.set('state', `${url.searchParams.get('state')}x`);
    expect((await callback(browser, url.href)).get('error')).toBe('oidc.invalid_state');
    // The started sign-in was used up by the failed attempt.
    expect((await callback(browser, good)).get('error')).toBe('oidc.invalid_state');
  });

  it('refuses a callback URL replayed from another browser, and a second use in the same one', async () => {
    const browser = new Browser(t);
    const who = account();
    const url = await toCallback(browser, who);
    const thief = new Browser(t);
    expect((await callback(thief, url)).get('error')).toBe('oidc.invalid_state');
    // The thief's attempt did not consume the victim's sign-in.
    const params = await callback(browser, url);
    expect(params.get('code')).toMatch(/^[\w-]{43}$/);
    // The cookie was cleared, and the flow row is gone: the same URL cannot be used again.
    expect(browser.cookie('api.example.test', 'oidc_flow')).toBeUndefined();
    const again = new Browser(t);
    expect((await callback(again, url)).get('error')).toBe('oidc.invalid_state');
  });

  it('refuses an ID token whose nonce is not the one of the flow (oidc.invalid_response)', async () => {
    const browser = new Browser(t);
    const who = account();
    const url = await toCallback(browser, who);
    // Tamper with the stored flow: the ID token now carries another nonce than expected.
    const flowId = browser.cookie('api.example.test', 'oidc_flow')!.split('.')[0]!;
    await t.db
      .update(oidcLoginFlows)
      .set({ nonce: 'not-the-nonce-that-was-sent' })
      .where(eq(oidcLoginFlows.id, flowId));
    const params = await callback(browser, url);
    expect(params.get('error')).toBe('oidc.invalid_response');
    expect(await identitiesOf(who.sub)).toHaveLength(0);
    expect(await t.db.select().from(users).where(eq(users.email, who.email))).toHaveLength(0);
  });

  describe('ID token signature (JWKS)', () => {
    afterEach(() => op.tamperIdTokens(undefined));

    it('refuses an ID token signed with a key not in the provider JWKS (oidc.invalid_response)', async () => {
      const who = account();
      op.tamperIdTokens({ foreignKey: true });
      const params = await signInWith(who);
      expect(params.get('error')).toBe('oidc.invalid_response');
      expect(params.get('code')).toBeNull();
      expect(await identitiesOf(who.sub)).toHaveLength(0);
      expect(await t.db.select().from(users).where(eq(users.email, who.email))).toHaveLength(0);
    });

    it('refuses an ID token whose claims were changed after signing (oidc.invalid_response)', async () => {
      // The forgery that matters: claim a verified address of someone else's account.
      const victim = await signUpVerified(t);
      const who = account();
      op.tamperIdTokens({
        claims: (claims) => ({ ...claims, email: victim.email, email_verified: true }),
      });
      const params = await signInWith(who);
      expect(params.get('error')).toBe('oidc.invalid_response');
      expect(params.get('code')).toBeNull();
      expect(await identitiesOf(who.sub)).toHaveLength(0);
      expect(await actionsOf(victim.user.id)).not.toContain('SIGN_IN');
    });

    it('still accepts the provider own, untouched ID tokens', async () => {
      const who = account();
      const res = await exchange((await signInWith(who)).get('code')!).expect(200);
      expect(res.body.user).toMatchObject({ email: who.email, emailVerified: true });
    });
  });

  it("logs the callback's URL without the provider's code and state", async () => {
    const browser = new Browser(t);
    const url = new URL(await toCallback(browser, account()));
    const code = url.searchParams.get('code')!;
    const state = url.searchParams.get('state')!;
    expect(code.length).toBeGreaterThan(20);
    expect((await callback(browser, url.href)).get('code')).toMatch(/^[\w-]{43}$/);
    const line = await log.find(
      (l) =>
        l.msg === 'request completed' &&
        (l.req as { url: string }).url.startsWith(`${url.pathname}?`),
    );
    const logged = new URLSearchParams((line.req as { url: string }).url.split('?')[1]);
    expect(logged.get('code')).toBe('[redacted]');
    expect(logged.get('state')).toBe('[redacted]');
    // Other parameters stay as they came (the provider's `iss`).
    expect(logged.get('iss')).toBe(url.searchParams.get('iss'));
    expect(log.text()).not.toContain(code);
    expect(log.text()).not.toContain(state);
  });

  it('accepts an exchange code once (reuse → 400 oidc.invalid_code)', async () => {
    const code = (await signInWith(account())).get('code')!;
    await exchange(code).expect(200);
    const reused = await exchange(code).expect(400);
    expect(reused.body.code).toBe('oidc.invalid_code');
    expect(reused.body).not.toHaveProperty('accessToken');
  });

  it('refuses an expired exchange code and an unknown one', async () => {
    const code = (await signInWith(account())).get('code')!;
    await t.db.update(oidcExchangeCodes).set({ expiresAt: new Date(Date.now() - 1000) });
    expect((await exchange(code).expect(400)).body.code).toBe('oidc.invalid_code');
    expect((await exchange('x'.repeat(43)).expect(400)).body.code).toBe('oidc.invalid_code');
  });
});

describe('OpenID Connect authorize: unreachable provider and throttling (e2e)', () => {
  let op: TestOpenIdProvider;
  let t: TestApp;

  beforeAll(async () => {
    op = await startOpenIdProvider(CALLBACK);
    // A port that was just free: nothing answers there.
    const gone = await startOpenIdProvider(CALLBACK);
    await gone.close();
    t = await createTestApp({
      env: {
        APP_URL,
        API_URL,
        OIDC_PROVIDERS: 'test,down',
        OIDC_TEST_ISSUER: op.issuer,
        OIDC_TEST_CLIENT_ID: op.clientId,
        OIDC_TEST_CLIENT_SECRET: op.clientSecret,
        OIDC_DOWN_ISSUER: gone.issuer,
        OIDC_DOWN_CLIENT_ID: 'x',
        OIDC_DOWN_CLIENT_SECRET: 'y',
        OIDC_ALLOW_INSECURE: 'true',
        RATE_LIMIT_PER_IP: '3',
        RATE_LIMIT_WINDOW: '60',
        REDIS_URL: undefined,
      },
    });
  });

  afterAll(async () => {
    await t.close();
    await op.close();
  });

  it('sends the browser back to the frontend when discovery fails, then throttles per IP', async () => {
    const down = await t.http.get('/api/v1/auth/oidc/down/authorize').expect(302);
    expect(down.headers.location).toBe(`${APP_URL}/auth/callback?error=oidc.provider_unavailable`);
    expect(down.headers['set-cookie']).toBeUndefined();
    await t.http.get('/api/v1/auth/oidc/test/authorize').expect(302);
    await t.http.get('/api/v1/auth/oidc/test/authorize').expect(302);
    expect429(await t.http.get('/api/v1/auth/oidc/test/authorize'));
  });
});
