import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { Secret, TOTP } from 'otpauth';
import {
  createClient,
  isMfaRequired,
  memoryTokenStore,
  signOut,
  webStorageTokenStore,
  type ApiError,
  type NestSaasClient,
  type TokenPair,
} from '../../clients/typescript/index.js';
import { invitations, teamMembers } from '../../src/database/schema.js';
import { createTestApp, type TestApp, uniqueEmail } from '../support/app.js';
import { markEmailVerified } from '../support/auth.js';

/**
 * The typed client of clients/typescript (generated from openapi.json, used through
 * openapi-fetch) against the running app over real HTTP, as a frontend would use it. It imports
 * the client's source, so `npm test` needs no client build; the built and packed package is
 * proven by clients/typescript/test/run.mjs (CI's "client package" step).
 */
describe('the typed TypeScript client (clients/typescript)', () => {
  let t: TestApp;
  let baseUrl: string;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await t.close();
  });

  it('signs up, creates a team and invites someone', async () => {
    const anonymous = createClient({ baseUrl });
    const email = uniqueEmail('client');
    const signUp = await anonymous.POST('/api/v1/auth/sign-up', {
      body: { email, password: 'correct horse battery staple', name: 'Ada' },
    });
    expect(signUp.response.status).toBe(201);
    expect(signUp.error).toBeUndefined();
    const session = signUp.data!;
    expect(session.user).toMatchObject({ email, name: 'Ada' });
    expect(session.tokenType).toBe('Bearer');
    // Inviting needs a verified email; the link flow itself is tested elsewhere.
    await markEmailVerified(t, session.user.id);

    const client: NestSaasClient = createClient({
      baseUrl,
      headers: { Authorization: `Bearer ${session.accessToken}` },
    });
    const created = await client.POST('/api/v1/teams', { body: { name: 'Client Team' } });
    expect(created.response.status).toBe(201);
    const team = created.data!;
    expect(team).toMatchObject({ name: 'Client Team', teamMembers: [{ role: 'owner' }] });

    const invitee = uniqueEmail('invitee');
    const invited = await client.POST('/api/v1/teams/{teamId}/invitations', {
      params: { path: { teamId: team.id } },
      body: { email: invitee, role: 'member' },
    });
    expect(invited.response.status).toBe(201);
    expect(invited.data).toMatchObject({ teamId: team.id, email: invitee, status: 'pending' });

    const listed = await client.GET('/api/v1/teams/{teamId}/invitations', {
      params: { path: { teamId: team.id }, query: { limit: 10 } },
    });
    expect(listed.data?.items.map((i) => i.email)).toEqual([invitee]);
    expect(listed.data?.nextCursor).toBeNull();

    const rows = await t.db.select().from(invitations).where(eq(invitations.teamId, team.id));
    expect(rows.map((r) => [r.email, r.role, r.status])).toEqual([[invitee, 'member', 'pending']]);
    const members = await t.db.select().from(teamMembers).where(eq(teamMembers.teamId, team.id));
    expect(members.map((m) => [m.userId, m.role])).toEqual([[session.user.id, 'owner']]);
  });

  it('gives errors in the API shape, typed with their documented codes', async () => {
    const client = createClient({ baseUrl });
    const email = uniqueEmail('client-dup');
    const body = { email, password: 'correct horse battery staple' };
    expect((await client.POST('/api/v1/auth/sign-up', { body })).response.status).toBe(201);
    const again = await client.POST('/api/v1/auth/sign-up', { body });
    expect(again.response.status).toBe(409);
    const error: ApiError | undefined = again.error;
    expect(error).toEqual({
      statusCode: 409,
      error: 'Conflict',
      code: 'user.email_taken',
      message: 'This email address is already in use',
    });
    const anonymous = await client.GET('/api/v1/users/me');
    expect(anonymous.response.status).toBe(401);
    expect(anonymous.error?.code).toBe('auth.unauthorized');
  });
});

/**
 * The client's session helpers (clients/typescript/session.ts) against the real app: the
 * middleware that attaches the stored access token and, on a 401 `auth.unauthorized`, refreshes
 * the pair once (one POST /auth/refresh shared by concurrent requests) and retries once.
 */
describe('the typed client keeps the session (token store, refresh on 401, MFA, sign-out)', () => {
  let t: TestApp;
  let baseUrl: string;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await t.close();
  });

  /** A fetch that records `METHOD /path status` of every request the client sends. */
  function recordingFetch(): { fetch: (request: Request) => Promise<Response>; calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      fetch: async (request) => {
        const response = await fetch(request);
        calls.push(`${request.method} ${new URL(request.url).pathname} ${response.status}`);
        return response;
      },
    };
  }

  /** The same access token (same user and session), signed with the app's key, expired. */
  function expired(accessToken: string): string {
    const claims = JSON.parse(
      Buffer.from(accessToken.split('.')[1]!, 'base64url').toString('utf8'),
    ) as Record<string, unknown>;
    const now = Math.floor(Date.now() / 1000);
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...claims, iat: now - 120, exp: now - 60 })}`;
    const signature = createHmac('sha256', t.config.jwt.secret)
      .update(unsigned)
      .digest('base64url');
    return `${unsigned}.${signature}`;
  }

  async function newSession(): Promise<TokenPair & { email: string }> {
    const email = uniqueEmail('session');
    const { data } = await createClient({ baseUrl }).POST('/api/v1/auth/sign-up', {
      body: { email, password: 'correct horse battery staple' },
    });
    return { accessToken: data!.accessToken, refreshToken: data!.refreshToken, email };
  }

  it('refreshes an expired token once for concurrent requests, stores the new pair and retries each', async () => {
    const session = await newSession();
    const stale = { accessToken: expired(session.accessToken), refreshToken: session.refreshToken };
    const tokens = memoryTokenStore(stale);
    const { fetch, calls } = recordingFetch();
    const api = createClient({ baseUrl, fetch, tokens });

    const [me, team] = await Promise.all([
      api.GET('/api/v1/users/me'),
      api.POST('/api/v1/teams', { body: { name: 'Retried Team' } }),
    ]);

    expect(me.data?.email).toBe(session.email);
    // The retried POST sent its JSON body again.
    expect({ status: team.response.status, name: team.data?.name }).toEqual({
      status: 201,
      name: 'Retried Team',
    });
    expect(calls.toSorted()).toEqual([
      'GET /api/v1/users/me 200',
      'GET /api/v1/users/me 401',
      'POST /api/v1/auth/refresh 200',
      'POST /api/v1/teams 201',
      'POST /api/v1/teams 401',
    ]);
    // Rotation: the new pair is stored and used; no further refresh.
    const stored = await tokens.get();
    expect(stored?.refreshToken).not.toBe(stale.refreshToken);
    expect(stored?.accessToken).not.toBe(stale.accessToken);
    calls.length = 0;
    expect((await api.GET('/api/v1/users/me')).response.status).toBe(200);
    expect(calls).toEqual(['GET /api/v1/users/me 200']);
  });

  it("keeps the session's middleware last: the app's middleware shapes the retry and sees only its answer", async () => {
    const session = await newSession();
    const tokens = memoryTokenStore({
      accessToken: expired(session.accessToken),
      refreshToken: session.refreshToken,
    });
    const sentHeaders: (string | null)[] = [];
    const seen: number[] = [];
    const api = createClient({
      baseUrl,
      tokens,
      fetch: (request) => {
        sentHeaders.push(request.headers.get('X-App'));
        return fetch(request);
      },
    });
    api.use({
      // A middleware that replaces the Request, as openapi-fetch's docs show.
      onRequest: ({ request }) => new Request(request, { headers: { 'X-App': 'yes' } }),
      onResponse: ({ response }) => {
        seen.push(response.status);
      },
    });
    expect((await api.GET('/api/v1/users/me')).data?.email).toBe(session.email);
    // The API saw the 401, the refresh (no X-App: a client of its own), then the retry.
    expect(sentHeaders).toEqual(['yes', null, 'yes']);
    expect(seen).toEqual([200]);
  });

  it('a revoked session: one refresh attempt for concurrent 401s, then the error, tokens cleared, no loop', async () => {
    const session = await newSession();
    const other = createClient({
      baseUrl,
      headers: { Authorization: `Bearer ${session.accessToken}` },
    });
    expect((await other.POST('/api/v1/auth/sign-out')).response.status).toBe(204);

    const tokens = memoryTokenStore(session);
    const ended: ApiError[] = [];
    const { fetch, calls } = recordingFetch();
    const api = createClient({ baseUrl, fetch, tokens, onSessionEnded: (e) => ended.push(e) });

    const [me, teams] = await Promise.all([
      api.GET('/api/v1/users/me'),
      api.GET('/api/v1/teams', { params: { query: { limit: 5 } } }),
    ]);

    expect([me.error?.code, teams.error?.code]).toEqual(['auth.unauthorized', 'auth.unauthorized']);
    expect(calls.toSorted()).toEqual([
      'GET /api/v1/teams 401',
      'GET /api/v1/users/me 401',
      'POST /api/v1/auth/refresh 401',
    ]);
    expect(await tokens.get()).toBeNull();
    expect(ended.map((e) => e.code)).toEqual(['auth.invalid_refresh_token']);

    // Signed out locally: the next request goes without a token and nothing is retried.
    calls.length = 0;
    expect((await api.GET('/api/v1/users/me')).error?.code).toBe('auth.unauthorized');
    expect(calls).toEqual(['GET /api/v1/users/me 401']);
  });

  it('a refresh token already used elsewhere (reuse detection): signs out locally, no retry', async () => {
    const session = await newSession();
    // Another tab refreshed with the same refresh token first.
    const rotated = await createClient({ baseUrl }).POST('/api/v1/auth/refresh', {
      body: { refreshToken: session.refreshToken },
    });
    expect(rotated.response.status).toBe(200);

    const tokens = memoryTokenStore({
      accessToken: expired(session.accessToken),
      refreshToken: session.refreshToken,
    });
    const ended: ApiError[] = [];
    const { fetch, calls } = recordingFetch();
    const api = createClient({ baseUrl, fetch, tokens, onSessionEnded: (e) => ended.push(e) });

    expect((await api.GET('/api/v1/users/me')).error?.code).toBe('auth.unauthorized');
    expect(calls).toEqual(['GET /api/v1/users/me 401', 'POST /api/v1/auth/refresh 401']);
    expect(await tokens.get()).toBeNull();
    expect(ended.map((e) => e.code)).toEqual(['auth.invalid_refresh_token']);
    // The server revoked the whole session: the other tab's new pair is dead too.
    const otherTab = createClient({
      baseUrl,
      headers: { Authorization: `Bearer ${rotated.data!.accessToken}` },
    });
    expect((await otherTab.GET('/api/v1/users/me')).response.status).toBe(401);
  });

  it('leaves a 401 that is not about the access token alone (wrong password at sign-in)', async () => {
    const session = await newSession();
    const tokens = memoryTokenStore(session);
    const { fetch, calls } = recordingFetch();
    const api = createClient({ baseUrl, fetch, tokens });
    const wrong = await api.POST('/api/v1/auth/sign-in', {
      body: { email: session.email, password: 'not the password' },
    });
    expect(wrong.error?.code).toBe('auth.invalid_credentials');
    expect(calls).toEqual(['POST /api/v1/auth/sign-in 401']);
    expect(await tokens.get()).toEqual({
      accessToken: session.accessToken,
      refreshToken: session.refreshToken,
    });
  });

  it('webStorageTokenStore keeps only the two tokens under its key; anything else reads as signed out', async () => {
    const items = new Map<string, string>();
    const storage = {
      getItem: (key: string) => items.get(key) ?? null,
      setItem: (key: string, value: string) => void items.set(key, value),
      removeItem: (key: string) => void items.delete(key),
    };
    const api = createClient({ baseUrl, tokens: webStorageTokenStore(storage, 'app.session') });
    const signUp = await api.POST('/api/v1/auth/sign-up', {
      body: { email: uniqueEmail('storage'), password: 'correct horse battery staple' },
    });
    await api.tokens.set(signUp.data!);
    expect(Object.keys(JSON.parse(items.get('app.session')!) as object).toSorted()).toEqual([
      'accessToken',
      'refreshToken',
    ]);
    expect((await api.GET('/api/v1/users/me')).response.status).toBe(200);

    const saved = items.get('app.session')!;
    items.set('app.session', '{"accessToken":1}');
    expect(await api.tokens.get()).toBeNull();
    expect((await api.GET('/api/v1/users/me')).error?.code).toBe('auth.unauthorized');

    items.set('app.session', saved);
    expect(await signOut(api)).toBe(true);
    expect(items.has('app.session')).toBe(false);
  });

  it('isMfaRequired tells the MFA challenge from a session; signOut ends the session and clears the tokens', async () => {
    const session = await newSession();
    // Turning on TOTP needs a verified email (403 email.unverified before).
    const me = await createClient({
      baseUrl,
      headers: { Authorization: `Bearer ${session.accessToken}` },
    }).GET('/api/v1/users/me');
    await markEmailVerified(t, me.data!.id);
    const password = 'correct horse battery staple';
    const tokens = memoryTokenStore(session);
    const api = createClient({ baseUrl, tokens });
    const enrol = await api.POST('/api/v1/users/me/mfa/totp', { body: { password } });
    const code = new TOTP({ secret: Secret.fromBase32(enrol.data!.secret) }).generate();
    const confirmed = await api.POST('/api/v1/users/me/mfa/totp/confirm', { body: { code } });
    const recoveryCode = confirmed.data!.recoveryCodes[0]!;

    await tokens.set(null);
    const signIn = await api.POST('/api/v1/auth/sign-in', {
      body: { email: session.email, password },
    });
    const answer = signIn.data!;
    expect(isMfaRequired(answer)).toBe(true);
    if (!isMfaRequired(answer)) return;
    const second = await api.POST('/api/v1/auth/sign-in/mfa', {
      body: { mfaToken: answer.mfaToken, code: recoveryCode },
    });
    expect(isMfaRequired(second.data!)).toBe(false);
    await tokens.set(second.data!);
    expect((await api.GET('/api/v1/users/me')).data?.mfaEnabled).toBe(true);

    const signedIn = (await tokens.get())!;
    expect(await signOut(api)).toBe(true);
    expect(await tokens.get()).toBeNull();
    const stale = createClient({
      baseUrl,
      headers: { Authorization: `Bearer ${signedIn.accessToken}` },
    });
    expect((await stale.GET('/api/v1/users/me')).error?.code).toBe('auth.unauthorized');
  });
});
