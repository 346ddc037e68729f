import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq } from 'drizzle-orm';
import { createHash, randomBytes } from 'node:crypto';
import supertest from 'supertest';
import {
  activityLogs,
  passwordResetTokens,
  samlRequests,
  ssoConnections,
  teamDomains,
  teamMembers,
  teams,
  users,
} from '../../src/database/schema.js';
import { createStaff } from '../support/admin-panel.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import {
  bearer,
  DEFAULT_PASSWORD,
  signUp,
  signUpVerified,
  type SignedUp,
} from '../support/auth.js';
import {
  startSamlIdp,
  type SamlPostForm,
  type SamlSignInOptions,
  type TestSamlIdp,
} from '../support/saml-idp.js';

const API_URL = 'http://api.example.test';
const APP_URL = 'https://app.example.test';

interface Connection {
  id: number;
  spEntityId: string;
  acsUrl: string;
  spMetadataUrl: string;
  idpEntityId: string;
  enforced: boolean;
}

interface SsoTeam {
  owner: SignedUp;
  domain: string;
  connection: Connection;
}

/**
 * SAML 2.0 sign-in driven as a browser drives it: GET /auth/sso → 302 to the IdP stand-in
 * (samlify/xml-crypto on loopback) → its auto-submit form → POST to the ACS → 303 to the
 * frontend → POST /auth/oidc/exchange with the code.
 */
describe('SAML 2.0 enterprise sign-in (e2e, against the IdP stand-in)', () => {
  let idp: TestSamlIdp;
  let t: TestApp;

  beforeAll(async () => {
    idp = await startSamlIdp();
    t = await createTestApp({ env: { APP_URL, API_URL } });
  });

  afterAll(async () => {
    await t.close();
    await idp.close();
  });

  function newDomain(): string {
    return `corp-${randomBytes(5).toString('hex')}.example.test`;
  }

  async function verifyDomain(teamId: number, domain: string): Promise<void> {
    // Verification by DNS is the domains module's; here the row it would leave.
    await t.db
      .insert(teamDomains)
      .values({ teamId, domain, txtValue: 'x', verifiedAt: new Date() });
  }

  async function ssoTeam(): Promise<SsoTeam> {
    const owner = await signUpVerified(t);
    const domain = newDomain();
    await verifyDomain(owner.team.id, domain);
    const res = await t.http
      .post(`/api/v1/teams/${owner.team.id}/sso`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ idpMetadataXml: idp.metadataXml });
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 201 });
    return { owner, domain, connection: res.body as Connection };
  }

  async function startAt(email: string): Promise<string> {
    const res = await t.http.get(`/api/v1/auth/sso?${new URLSearchParams({ email }).toString()}`);
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 302 });
    return res.headers.location as string;
  }

  /** Posts the IdP's form to the ACS and answers the frontend URL of the 303. */
  async function post(form: SamlPostForm): Promise<URL> {
    const action = new URL(form.action);
    const fields: Record<string, string> = { SAMLResponse: form.SAMLResponse };
    if (form.RelayState !== undefined) fields.RelayState = form.RelayState;
    const res = await t.http.post(action.pathname).type('form').send(fields);
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 303 });
    const location = new URL(res.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe(`${APP_URL}/auth/callback`);
    return location;
  }

  async function signInVia(email: string, options: Partial<SamlSignInOptions> = {}): Promise<URL> {
    const form = await idp.signIn(await startAt(email), { email, ...options });
    return post(form);
  }

  async function exchange(location: URL) {
    const code = location.searchParams.get('code');
    expect({ code, error: location.searchParams.get('error') }).toMatchObject({
      code: expect.any(String),
      error: null,
    });
    const res = await t.http.post('/api/v1/auth/oidc/exchange').send({ code });
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 200 });
    return res.body as {
      accessToken?: string;
      mfaRequired?: boolean;
      mfaToken?: string;
      user?: { id: number };
    };
  }

  async function membership(teamId: number, userId: number) {
    const [row] = await t.db
      .select({ role: teamMembers.role })
      .from(teamMembers)
      .where(and(eq(teamMembers.teamId, teamId), eq(teamMembers.userId, userId)));
    return row;
  }

  function errorOf(location: URL): string | null {
    expect(location.searchParams.get('code')).toBeNull();
    return location.searchParams.get('error');
  }

  describe('owner routes', () => {
    it('creates, reads, changes and deletes the connection, owner only, with activity rows', async () => {
      const { owner, connection } = await ssoTeam();
      const base = `${API_URL}/api/v1/auth/saml/${connection.id}`;
      expect(connection).toMatchObject({
        spEntityId: `${base}/metadata`,
        acsUrl: `${base}/acs`,
        spMetadataUrl: `${base}/metadata`,
        idpEntityId: idp.entityId,
        enforced: false,
      });
      const auth = bearer(owner.accessToken);
      const path = `/api/v1/teams/${owner.team.id}/sso`;
      expect((await t.http.get(path).set('Authorization', auth)).body).toMatchObject({
        id: connection.id,
      });
      const again = await t.http.post(path).set('Authorization', auth).send({
        idpMetadataXml: idp.metadataXml,
      });
      expect({ status: again.status, code: again.body.code }).toEqual({
        status: 409,
        code: 'sso.exists',
      });

      // A member of the team is refused (403), an outsider sees no team (404).
      const member = await signUpVerified(t);
      await t.db
        .insert(teamMembers)
        .values({ teamId: owner.team.id, userId: member.user.id, role: 'member' });
      expect((await t.http.get(path).set('Authorization', bearer(member.accessToken))).status).toBe(
        403,
      );
      const outsider = await signUpVerified(t);
      expect(
        (await t.http.get(path).set('Authorization', bearer(outsider.accessToken))).status,
      ).toBe(404);
      expect((await t.http.get(path)).status).toBe(401);

      const patched = await t.http.patch(path).set('Authorization', auth).send({ enforced: true });
      expect({ status: patched.status, enforced: patched.body.enforced }).toEqual({
        status: 200,
        enforced: true,
      });
      expect((await t.http.delete(path).set('Authorization', auth)).status).toBe(204);
      expect((await t.http.get(path).set('Authorization', auth)).body.code).toBe('sso.not_found');
      const actions = await t.db
        .select({ action: activityLogs.action })
        .from(activityLogs)
        .where(eq(activityLogs.teamId, owner.team.id));
      expect(actions.map((a) => a.action)).toEqual(
        expect.arrayContaining([
          'CREATE_SSO_CONNECTION',
          'UPDATE_SSO_CONNECTION',
          'DELETE_SSO_CONNECTION',
        ]),
      );
    });

    it('refuses metadata it cannot use (400 sso.invalid_metadata)', async () => {
      const owner = await signUpVerified(t);
      const path = `/api/v1/teams/${owner.team.id}/sso`;
      for (const idpMetadataXml of [
        'not xml <',
        '<x/>',
        idp.metadataXml.replace(/<(\w+:)?X509Certificate>[^<]*</g, '<$1X509Certificate>AAAA<'),
        idp.metadataXml.replace(/HTTP-Redirect/g, 'HTTP-Artifact'),
      ]) {
        const res = await t.http
          .post(path)
          .set('Authorization', bearer(owner.accessToken))
          .send({ idpMetadataXml });
        expect({ status: res.status, code: res.body.code }).toEqual({
          status: 400,
          code: 'sso.invalid_metadata',
        });
      }
    });

    it('enforced: true needs a verified domain (409)', async () => {
      const owner = await signUpVerified(t);
      const path = `/api/v1/teams/${owner.team.id}/sso`;
      const auth = bearer(owner.accessToken);
      expect(
        (
          await t.http
            .post(path)
            .set('Authorization', auth)
            .send({ idpMetadataXml: idp.metadataXml })
        ).status,
      ).toBe(201);
      const res = await t.http.patch(path).set('Authorization', auth).send({ enforced: true });
      expect({ status: res.status, code: res.body.code }).toEqual({
        status: 409,
        code: 'sso.domain_required',
      });
    });

    it('serves the SP metadata', async () => {
      const { connection } = await ssoTeam();
      const res = await t.http
        .get(`/api/v1/auth/saml/${connection.id}/metadata`)
        .buffer(true)
        .parse((r, cb) => {
          let text = '';
          r.on('data', (c: Buffer) => (text += c.toString()));
          r.on('end', () => cb(null, text));
        });
      expect(res.status).toBe(200);
      expect(res.body).toContain(`entityID="${connection.spEntityId}"`);
      expect(res.body).toContain(`Location="${connection.acsUrl}"`);
      expect(res.body).toContain('WantAssertionsSigned="true"');
    });
  });

  describe('sign-in', () => {
    it('404 sso.not_configured for a domain no team verified with a connection', async () => {
      const res = await t.http.get(`/api/v1/auth/sso?email=${encodeURIComponent(uniqueEmail())}`);
      expect({ status: res.status, code: res.body.code }).toEqual({
        status: 404,
        code: 'sso.not_configured',
      });
    });

    it('JIT: a new user is created verified, joins the team as member, SIGN_UP', async () => {
      const { owner, domain } = await ssoTeam();
      const email = `new.person@${domain}`;
      const location = await signInVia(email);
      const tokens = await exchange(location);
      expect(tokens.accessToken).toEqual(expect.any(String));
      const me = await t.http
        .get('/api/v1/users/me')
        .set('Authorization', bearer(tokens.accessToken!));
      expect(me.body).toMatchObject({ email, emailVerified: true });
      expect(await membership(owner.team.id, me.body.id as number)).toEqual({ role: 'member' });
      const [signUpRow] = await t.db
        .select({ teamId: activityLogs.teamId })
        .from(activityLogs)
        .where(
          and(eq(activityLogs.userId, me.body.id as number), eq(activityLogs.action, 'SIGN_UP')),
        );
      expect(signUpRow).toEqual({ teamId: owner.team.id });
      // No usable password.
      const password = await t.http
        .post('/api/v1/auth/sign-in')
        .send({ email, password: DEFAULT_PASSWORD });
      expect(password.status).toBe(401);
    });

    it("JIT past the plan's max_members: ?error=plan.limit_reached, and no account is left behind", async () => {
      const { owner, domain } = await ssoTeam();
      // The owner alone fills a plan of one member (an admin's override, as for a deal).
      await t.db
        .update(teams)
        .set({ planOverride: { maxMembers: 1 } })
        .where(eq(teams.id, owner.team.id));
      const email = `one.too.many@${domain}`;
      expect(errorOf(await signInVia(email))).toBe('plan.limit_reached');
      expect(await t.db.select({ id: users.id }).from(users).where(eq(users.email, email))).toEqual(
        [],
      );
      // Room again: the same person gets in.
      await t.db
        .update(teams)
        .set({ planOverride: { maxMembers: 2 } })
        .where(eq(teams.id, owner.team.id));
      const tokens = await exchange(await signInVia(email));
      expect(await membership(owner.team.id, tokens.user!.id)).toEqual({ role: 'member' });
    });

    it('links an existing user, who joins the team; SIGN_IN at the exchange', async () => {
      const { owner, domain } = await ssoTeam();
      const existing = await signUp(t, { email: `existing@${domain}` });
      const tokens = await exchange(await signInVia(existing.email));
      expect(tokens.user?.id).toBe(existing.user.id);
      expect(await membership(owner.team.id, existing.user.id)).toEqual({ role: 'member' });
      const [user] = await t.db.select().from(users).where(eq(users.id, existing.user.id));
      // The verified domain proved the address; a password set before it was proven (maybe by
      // someone else: pre-account hijacking) no longer works.
      expect(user?.emailVerifiedAt).not.toBeNull();
      const password = await t.http
        .post('/api/v1/auth/sign-in')
        .send({ email: existing.email, password: DEFAULT_PASSWORD });
      expect(password.status).toBe(401);
      const signIns = await t.db
        .select()
        .from(activityLogs)
        .where(and(eq(activityLogs.userId, existing.user.id), eq(activityLogs.action, 'SIGN_IN')));
      expect(signIns).toHaveLength(1);
    });

    it('a user with MFA gets the second step after the exchange', async () => {
      const { domain } = await ssoTeam();
      const existing = await signUpVerified(t, { email: `mfa@${domain}` });
      await t.db
        .update(users)
        .set({ mfaEnabledAt: new Date() })
        .where(eq(users.id, existing.user.id));
      const answer = await exchange(await signInVia(existing.email));
      expect(answer).toEqual({ mfaRequired: true, mfaToken: expect.any(String) });
      // A verified account is only linked: its password stays.
      await t.db.update(users).set({ mfaEnabledAt: null }).where(eq(users.id, existing.user.id));
      const password = await t.http
        .post('/api/v1/auth/sign-in')
        .send({ email: existing.email, password: DEFAULT_PASSWORD });
      expect(password.status).toBe(200);
    });

    it('accepts a response signed as a whole', async () => {
      const { domain } = await ssoTeam();
      const tokens = await exchange(await signInVia(`whole@${domain}`, { sign: 'response' }));
      expect(tokens.accessToken).toEqual(expect.any(String));
    });

    const refusals: [string, (domain: string) => Partial<SamlSignInOptions>, string][] = [
      ['an unsigned response', () => ({ unsigned: true }), 'sso.invalid_response'],
      [
        'a response signed by another key',
        () => ({ signWithOtherKey: true }),
        'sso.invalid_response',
      ],
      [
        'signature wrapping (before)',
        (d) => ({ wrapping: { email: `evil@${d}`, placement: 'before' } }),
        'sso.invalid_response',
      ],
      [
        'signature wrapping (inside)',
        (d) => ({ wrapping: { email: `evil@${d}`, placement: 'inside' } }),
        'sso.invalid_response',
      ],
      [
        'a wrong audience',
        () => ({ audience: 'https://other-sp.example.test' }),
        'sso.invalid_response',
      ],
      [
        'a wrong recipient',
        () => ({ recipient: `${API_URL}/api/v1/auth/saml/999999/acs` }),
        'sso.invalid_response',
      ],
      [
        'a wrong destination',
        () => ({ destination: `${API_URL}/api/v1/auth/saml/999999/acs` }),
        'sso.invalid_response',
      ],
      [
        'a wrong issuer',
        () => ({ issuer: 'https://evil-idp.example.test' }),
        'sso.invalid_response',
      ],
      ['an expired assertion', () => ({ shiftMs: -10 * 60_000 }), 'sso.invalid_response'],
      ['an assertion not yet valid', () => ({ shiftMs: 10 * 60_000 }), 'sso.invalid_response'],
      [
        'a response to another request',
        () => ({ inResponseTo: '_not-ours' }),
        'sso.invalid_response',
      ],
    ];

    it.each(refusals)('refuses %s', async (_name, options, code) => {
      const { domain } = await ssoTeam();
      const email = `victim@${domain}`;
      expect(errorOf(await signInVia(email, options(domain)))).toBe(code);
      expect(await t.db.select().from(users).where(eq(users.email, email))).toHaveLength(0);
    });

    it('the comment trick does not shorten the NameID', async () => {
      const { domain } = await ssoTeam();
      // Signed for `user@<domain>.x.example.test`, a comment after `user@<domain>`: a naive SP
      // reading the first text node would sign in `user@<domain>`, in the verified domain.
      const email = `user@${domain}.x.example.test`;
      const form = await idp.signIn(await startAt(`someone@${domain}`), {
        email,
        commentInNameId: `user@${domain}`,
      });
      // Read whole, the address is not in the connection's verified domains.
      expect(errorOf(await post(form))).toBe('sso.domain_mismatch');
      expect(
        await t.db
          .select()
          .from(users)
          .where(eq(users.email, `user@${domain}`)),
      ).toHaveLength(0);
    });

    it('refuses a NameID outside the verified domains (sso.domain_mismatch)', async () => {
      const { domain } = await ssoTeam();
      const form = await idp.signIn(await startAt(`someone@${domain}`), {
        email: `someone@${newDomain()}`,
      });
      expect(errorOf(await post(form))).toBe('sso.domain_mismatch');
    });

    it('refuses an unsolicited (IdP-initiated) response', async () => {
      const { domain, connection } = await ssoTeam();
      const form = idp.unsolicited({
        email: `someone@${domain}`,
        acsUrl: connection.acsUrl,
        audience: connection.spEntityId,
      });
      expect(errorOf(await post(form))).toBe('sso.invalid_response');
    });

    it('answers each request once: the same response posted twice is refused', async () => {
      const { domain } = await ssoTeam();
      const email = `twice@${domain}`;
      const form = await idp.signIn(await startAt(email), { email });
      await exchange(await post(form));
      expect(errorOf(await post(form))).toBe('sso.invalid_response');
    });

    it('a refused answer uses its request up', async () => {
      const { domain } = await ssoTeam();
      const email = `burned@${domain}`;
      const wrong = await idp.signIn(await startAt(email), {
        email,
        destination: `${API_URL}/elsewhere`,
      });
      const burned = idp.lastRequest()!.id;
      expect(errorOf(await post(wrong))).toBe('sso.invalid_response');
      // A correct answer to the same request, made later, is refused too.
      const retry = await idp.signIn(await startAt(email), { email, inResponseTo: burned });
      expect(errorOf(await post(retry))).toBe('sso.invalid_response');
      expect(
        await t.db.select().from(samlRequests).where(eq(samlRequests.id, burned)),
      ).toHaveLength(0);
    });

    it('refuses a replayed assertion id (sso.replayed)', async () => {
      const { domain } = await ssoTeam();
      const email = `replay@${domain}`;
      const assertionId = `_${randomBytes(16).toString('hex')}`;
      await exchange(await signInVia(email, { assertionId }));
      expect(errorOf(await signInVia(email, { assertionId }))).toBe('sso.replayed');
    });

    it('expires issued requests after 10 minutes', async () => {
      const { domain } = await ssoTeam();
      const email = `late@${domain}`;
      const redirect = await startAt(email);
      const form = await idp.signIn(redirect, { email });
      const requestId = idp.lastRequest()!.id;
      await t.db
        .update(samlRequests)
        .set({ createdAt: new Date(Date.now() - 11 * 60_000) })
        .where(eq(samlRequests.id, requestId));
      expect(errorOf(await post(form))).toBe('sso.invalid_response');
    });
  });

  describe('enforcement', () => {
    it('refuses password sign-in and reset for the domain while enforced, with the ssoUrl', async () => {
      const { owner, domain } = await ssoTeam();
      const user = await signUpVerified(t, { email: `pw@${domain}` });
      const auth = bearer(owner.accessToken);
      const path = `/api/v1/teams/${owner.team.id}/sso`;
      expect(
        (await t.http.patch(path).set('Authorization', auth).send({ enforced: true })).status,
      ).toBe(200);
      const ssoUrl = `${API_URL}/api/v1/auth/sso?${new URLSearchParams({ email: user.email }).toString()}`;

      const signIn = await t.http
        .post('/api/v1/auth/sign-in')
        .send({ email: user.email, password: DEFAULT_PASSWORD });
      expect({
        status: signIn.status,
        code: signIn.body.code,
        details: signIn.body.details,
      }).toEqual({
        status: 403,
        code: 'auth.sso_required',
        details: [expect.objectContaining({ ssoUrl })],
      });
      const reset = await t.http.post('/api/v1/auth/password-reset').send({ email: user.email });
      expect({ status: reset.status, code: reset.body.code }).toEqual({
        status: 403,
        code: 'auth.sso_required',
      });
      // A reset link mailed before the enforcement is refused too (and stays unused).
      const token = randomBytes(32).toString('base64url');
      await t.db.insert(passwordResetTokens).values({
        userId: user.user.id,
        tokenHash: createHash('sha256').update(token).digest('hex'),
        expiresAt: new Date(Date.now() + 60 * 60_000),
      });
      const confirm = await t.http
        .post('/api/v1/auth/password-reset/confirm')
        .send({ token, newPassword: 'a brand new password' });
      expect({ status: confirm.status, code: confirm.body.code }).toEqual({
        status: 403,
        code: 'auth.sso_required',
      });
      // The owner's own address is elsewhere: unaffected.
      expect(
        (
          await t.http
            .post('/api/v1/auth/sign-in')
            .send({ email: owner.email, password: DEFAULT_PASSWORD })
        ).status,
      ).toBe(200);

      // Back-office staff in that domain keep their password at /admin (not at the API).
      const staff = await createStaff(t, 'admin');
      const staffEmail = `staff-${randomBytes(3).toString('hex')}@${domain}`;
      await t.db.update(users).set({ email: staffEmail }).where(eq(users.id, staff.id));
      const staffApi = await t.http
        .post('/api/v1/auth/sign-in')
        .send({ email: staffEmail, password: staff.password });
      expect(staffApi.status).toBe(403);
      const panel = await supertest
        .agent(t.app.getHttpServer())
        .post('/admin/login')
        .type('form')
        .send({ email: staffEmail, password: staff.password });
      expect({ status: panel.status, location: panel.headers.location }).toEqual({
        status: 302,
        location: '/admin',
      });

      // Removing the last verified domain ends the enforcement at once.
      await t.db.delete(teamDomains).where(eq(teamDomains.domain, domain));
      expect(
        (
          await t.http
            .post('/api/v1/auth/sign-in')
            .send({ email: user.email, password: DEFAULT_PASSWORD })
        ).status,
      ).toBe(200);
    });
  });

  describe('back office', () => {
    it('shows the connection and lets an admin disable and enable it (UPDATE_SSO_CONNECTION)', async () => {
      const agent = supertest.agent(t.app.getHttpServer());
      const login = await agent
        .post('/admin/login')
        .type('form')
        .send({ email: 'admin@test.com', password: 'admin123' });
      expect(login.status).toBe(302);
      const [admin] = await t.db.select().from(users).where(eq(users.email, 'admin@test.com'));
      const { owner, domain, connection } = await ssoTeam();
      const email = `staff@${domain}`;
      await signUpVerified(t, { email });
      await t.http
        .patch(`/api/v1/teams/${owner.team.id}/sso`)
        .set('Authorization', bearer(owner.accessToken))
        .send({ enforced: true })
        .expect(200);

      const show = await agent
        .get(`/admin/api/resources/sso_connections/records/${connection.id}/show`)
        .expect(200);
      expect(show.body.record.params).toMatchObject({
        teamId: owner.team.id,
        idpEntityId: idp.entityId,
        enforced: true,
      });

      // A form the IdP made before the switch is refused after it.
      const pending = await idp.signIn(await startAt(email), { email });
      const disabled = await agent
        .post(`/admin/api/resources/sso_connections/records/${connection.id}/disable`)
        .expect(200);
      expect(disabled.body.notice).toMatchObject({ type: 'success' });
      const [row] = await t.db
        .select()
        .from(ssoConnections)
        .where(eq(ssoConnections.id, connection.id));
      expect(row!.disabledAt).not.toBeNull();
      expect(errorOf(await post(pending))).toBe('sso.not_configured');
      const start = await t.http.get(
        `/api/v1/auth/sso?${new URLSearchParams({ email }).toString()}`,
      );
      expect({ status: start.status, code: start.body.code }).toEqual({
        status: 404,
        code: 'sso.not_configured',
      });
      // Enforcement ends with it: the password works again.
      expect(
        (await t.http.post('/api/v1/auth/sign-in').send({ email, password: DEFAULT_PASSWORD }))
          .status,
      ).toBe(200);
      // The owner sees it.
      const seen = await t.http
        .get(`/api/v1/teams/${owner.team.id}/sso`)
        .set('Authorization', bearer(owner.accessToken));
      expect(seen.body).toMatchObject({ disabled: true, enforced: true });

      await agent
        .post(`/admin/api/resources/sso_connections/records/${connection.id}/enable`)
        .expect(200);
      expect(
        (await t.http.post('/api/v1/auth/sign-in').send({ email, password: DEFAULT_PASSWORD }))
          .status,
      ).toBe(403);
      const logged = await t.db
        .select({ userId: activityLogs.userId })
        .from(activityLogs)
        .where(
          and(
            eq(activityLogs.teamId, owner.team.id),
            eq(activityLogs.action, 'UPDATE_SSO_CONNECTION'),
          ),
        );
      // The owner's PATCH, then the admin's disable and enable.
      expect(logged.map((r) => r.userId).sort()).toEqual(
        [owner.user.id, admin!.id, admin!.id].sort(),
      );
    });
  });
});
