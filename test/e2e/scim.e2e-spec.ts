import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq } from 'drizzle-orm';
import { createHash, randomBytes } from 'node:crypto';
import supertest from 'supertest';
import {
  emailVerificationTokens,
  scimTokens,
  teamDomains,
  teamMembers,
  users,
} from '../../src/database/schema.js';
import { activityRows } from '../support/activity.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, signUp, signUpVerified, type SignedUp } from '../support/auth.js';

const SCIM_TYPE = 'application/scim+json';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

interface CreatedToken {
  id: number;
  name: string;
  prefix: string;
  createdAt: string;
  token: string;
}

type ScimBody = Record<string, unknown>;

/** A SCIM client as Okta and Entra ID are: bearer token, application/scim+json both ways. */
function scimClient(t: TestApp, token: string) {
  const auth = bearer(token);
  const withBody = (method: 'post' | 'put' | 'patch', path: string, body: unknown) =>
    t.http[method](`/scim/v2${path}`)
      .set('Authorization', auth)
      .set('Accept', SCIM_TYPE)
      .set('Content-Type', `${SCIM_TYPE}; charset=utf-8`)
      .send(JSON.stringify(body));
  return {
    get: (path: string) =>
      t.http.get(`/scim/v2${path}`).set('Authorization', auth).set('Accept', SCIM_TYPE),
    post: (path: string, body: unknown) => withBody('post', path, body),
    put: (path: string, body: unknown) => withBody('put', path, body),
    patch: (path: string, body: unknown) => withBody('patch', path, body),
    delete: (path: string) => t.http.delete(`/scim/v2${path}`).set('Authorization', auth),
  };
}

function patchOps(...operations: object[]) {
  return { schemas: [PATCH_OP], Operations: operations };
}

function filterQuery(filter: string): string {
  return `filter=${encodeURIComponent(filter)}`;
}

function expectScimError(
  res: { status: number; body: unknown; headers: Record<string, string> },
  status: number,
  scimType?: string,
) {
  expect({ status: res.status, body: res.body }).toEqual({
    status,
    body: {
      schemas: [ERROR_SCHEMA],
      status: String(status),
      ...(scimType === undefined ? {} : { scimType }),
      detail: expect.any(String),
    },
  });
  expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
}

function oktaUser(email: string, extra: ScimBody = {}): ScimBody {
  return {
    schemas: [USER_SCHEMA],
    userName: email,
    name: { givenName: 'Grace', familyName: 'Hopper' },
    emails: [{ primary: true, value: email, type: 'work' }],
    displayName: 'Grace Hopper',
    locale: 'en-US',
    externalId: `00u${randomBytes(6).toString('hex')}`,
    groups: [],
    active: true,
    ...extra,
  };
}

describe('SCIM 2.0 directory sync (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  async function createToken(owner: SignedUp, name = 'Okta'): Promise<CreatedToken> {
    const res = await t.http
      .post(`/api/v1/teams/${owner.team.id}/scim/tokens`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ name });
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 201 });
    return res.body as CreatedToken;
  }

  /** A verified owner's team with a SCIM token, and its SCIM client. */
  async function directory() {
    const owner = await signUpVerified(t, { name: 'Directory Owner' });
    const token = await createToken(owner);
    return { owner, token, client: scimClient(t, token.token), teamId: owner.team.id };
  }

  async function membership(teamId: number, userId: number) {
    const [row] = await t.db
      .select()
      .from(teamMembers)
      .where(and(eq(teamMembers.teamId, teamId), eq(teamMembers.userId, userId)));
    return row;
  }

  async function accountOf(email: string) {
    const [row] = await t.db.select().from(users).where(eq(users.email, email));
    return row;
  }

  describe('tokens (owner routes under /api/v1)', () => {
    it('creates a token shown once and stored hashed, lists it without it, revokes it at once', async () => {
      const { owner, token, client, teamId } = await directory();
      expect(token).toEqual({
        id: expect.any(Number),
        name: 'Okta',
        prefix: expect.stringMatching(/^scim_[0-9a-f]{12}$/),
        createdAt: expect.any(String),
        token: expect.stringMatching(/^scim_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/),
      });
      const [row] = await t.db.select().from(scimTokens).where(eq(scimTokens.id, token.id));
      expect(row!.hash).toBe(createHash('sha256').update(token.token).digest('hex'));
      expect(JSON.stringify(row)).not.toContain(token.token);

      const list = await t.http
        .get(`/api/v1/teams/${teamId}/scim/tokens`)
        .set('Authorization', bearer(owner.accessToken));
      expect(list.status).toBe(200);
      expect(list.body).toEqual({
        items: [
          {
            id: token.id,
            name: 'Okta',
            prefix: expect.any(String),
            createdAt: token.createdAt,
            lastUsedAt: null,
            createdBy: owner.user.id,
          },
        ],
        nextCursor: null,
      });
      expect(JSON.stringify(list.body)).not.toContain(token.token);

      expect((await client.get('/Users')).status).toBe(200);
      const revoked = await t.http
        .delete(`/api/v1/teams/${teamId}/scim/tokens/${token.id}`)
        .set('Authorization', bearer(owner.accessToken));
      expect(revoked.status).toBe(204);
      expectScimError(await client.get('/Users'), 401);

      const actions = (await activityRows(t.db, { teamId })).map((r) => r.action);
      expect(actions).toEqual(expect.arrayContaining(['CREATE_SCIM_TOKEN', 'REVOKE_SCIM_TOKEN']));
    });

    it("is for owners with a verified email; another team's token is a 404", async () => {
      const { owner, token, teamId } = await directory();
      const member = await signUpVerified(t);
      await t.db.insert(teamMembers).values({ teamId, userId: member.user.id, role: 'member' });
      const asMember = await t.http
        .get(`/api/v1/teams/${teamId}/scim/tokens`)
        .set('Authorization', bearer(member.accessToken));
      expect(asMember.status).toBe(403);

      const unverified = await signUp(t);
      const refused = await t.http
        .post(`/api/v1/teams/${unverified.team.id}/scim/tokens`)
        .set('Authorization', bearer(unverified.accessToken))
        .send({ name: 'x' });
      expect({ status: refused.status, code: refused.body.code }).toEqual({
        status: 403,
        code: 'email.unverified',
      });

      const other = await signUpVerified(t);
      const foreign = await t.http
        .delete(`/api/v1/teams/${other.team.id}/scim/tokens/${token.id}`)
        .set('Authorization', bearer(other.accessToken));
      expect({ status: foreign.status, code: foreign.body.code }).toEqual({
        status: 404,
        code: 'scim_token.not_found',
      });
      const still = await t.http
        .get(`/api/v1/teams/${teamId}/scim/tokens`)
        .set('Authorization', bearer(owner.accessToken));
      expect(still.body.items).toHaveLength(1);
    });

    it('shows the base URL and lets the owner rename the owner group', async () => {
      const { owner, teamId } = await directory();
      const url = `/api/v1/teams/${teamId}/scim/settings`;
      const before = await t.http.get(url).set('Authorization', bearer(owner.accessToken));
      expect(before.body).toEqual({
        baseUrl: expect.stringMatching(/\/scim\/v2$/),
        ownerGroup: 'Owners',
      });
      const after = await t.http
        .patch(url)
        .set('Authorization', bearer(owner.accessToken))
        .send({ ownerGroup: 'App Admins' });
      expect(after.body).toMatchObject({ ownerGroup: 'App Admins' });
    });
  });

  describe('authentication and the SCIM wire format', () => {
    it('answers 401 SCIM errors without a token, with a JWT, with an API key or a forged token', async () => {
      const { owner } = await directory();
      const bare = await t.http.get('/scim/v2/Users');
      expectScimError(bare, 401);
      expect(bare.headers['www-authenticate']).toBe('Bearer');
      expectScimError(
        await t.http.get('/scim/v2/Users').set('Authorization', bearer(owner.accessToken)),
        401,
      );
      expectScimError(
        await t.http.get('/scim/v2/Users').set('Authorization', bearer(`nsk_${'a'.repeat(12)}_x`)),
        401,
      );
      const forged = `scim_${'0'.repeat(12)}_${'A'.repeat(43)}`;
      expectScimError(
        await t.http.get('/scim/v2/ServiceProviderConfig').set('Authorization', bearer(forged)),
        401,
      );
    });

    it('serves discovery documents in application/scim+json', async () => {
      const { client } = await directory();
      const config = await client.get('/ServiceProviderConfig');
      expect(config.status).toBe(200);
      expect(config.headers['content-type']).toMatch(/^application\/scim\+json/);
      expect(config.body).toMatchObject({
        patch: { supported: true },
        filter: { supported: true, maxResults: 200 },
        bulk: { supported: false },
      });
      const types = await client.get('/ResourceTypes');
      expect(types.body).toMatchObject({ schemas: [LIST_SCHEMA], totalResults: 2 });
      expect((await client.get('/ResourceTypes/User')).body).toMatchObject({ endpoint: '/Users' });
      const schemas = await client.get('/Schemas');
      expect((schemas.body as { Resources: { id: string }[] }).Resources.map((s) => s.id)).toEqual([
        USER_SCHEMA,
        GROUP_SCHEMA,
      ]);
      expect((await client.get(`/Schemas/${GROUP_SCHEMA}`)).status).toBe(200);
      expectScimError(await client.get('/Schemas/urn:nope'), 404);
    });

    it('refuses unsupported filters, malformed JSON and bad values with SCIM error bodies', async () => {
      const { client } = await directory();
      const bad = await client.get(`/Users?${filterQuery('userName co "a"')}`);
      expectScimError(bad, 400, 'invalidFilter');
      expect(bad.body.detail).toContain('userName eq');
      expectScimError(
        await client.get(`/Users?${filterQuery('userName eq')}`),
        400,
        'invalidFilter',
      );
      expectScimError(
        await client.get(`/Groups?${filterQuery('displayName sw "O"')}`),
        400,
        'invalidFilter',
      );
      const malformed = await t.http
        .post('/scim/v2/Users')
        .set('Authorization', bearer((await directory()).token.token))
        .set('Content-Type', SCIM_TYPE)
        .send('{"userName": ');
      expectScimError(malformed, 400, 'invalidSyntax');
      expectScimError(await client.post('/Users', { name: {} }), 400, 'invalidValue');
      expectScimError(
        await client.post('/Users', { userName: 'not-an-address' }),
        400,
        'invalidValue',
      );
      expectScimError(await client.get('/Users/not-a-uuid'), 404);
      expectScimError(await client.get('/Nope'), 404);
      // A malformed URL, answered by the router itself, in the SCIM shape too.
      expectScimError(await client.get('/Users/%zz'), 400, 'invalidValue');
    });

    it('takes application/scim+json and application/json under /scim/v2 only', async () => {
      const { owner, token, client } = await directory();
      const asJson = await t.http
        .post('/scim/v2/Users')
        .set('Authorization', bearer(token.token))
        .send(oktaUser(uniqueEmail('json')));
      expect(asJson.status).toBe(201);
      expect(asJson.headers['content-type']).toMatch(/^application\/scim\+json/);
      const asText = await t.http
        .post('/scim/v2/Users')
        .set('Authorization', bearer(token.token))
        .set('Content-Type', 'text/plain')
        .send('userName=x');
      expectScimError(asText, 415);
      // The API itself stays JSON-only.
      const api = await t.http
        .post('/api/v1/teams')
        .set('Authorization', bearer(owner.accessToken))
        .set('Content-Type', SCIM_TYPE)
        .send(JSON.stringify({ name: 'Through SCIM type' }));
      expect({ status: api.status, code: api.body.code }).toEqual({
        status: 415,
        code: 'request.unsupported_media_type',
      });
      expect((await client.get('/Users')).body).toMatchObject({ totalResults: 1 });
    });

    it('is rate limited per token (429 SCIM error with Retry-After); another token is unaffected', async () => {
      const limited = await createTestApp({ env: { SCIM_RATE_LIMIT: '3' } });
      try {
        const owner = await signUpVerified(limited);
        const tokens: string[] = [];
        for (const name of ['a', 'b']) {
          const res = await limited.http
            .post(`/api/v1/teams/${owner.team.id}/scim/tokens`)
            .set('Authorization', bearer(owner.accessToken))
            .send({ name });
          tokens.push((res.body as CreatedToken).token);
        }
        const a = scimClient(limited, tokens[0]!);
        for (let i = 0; i < 3; i++) expect((await a.get('/Users')).status).toBe(200);
        const refused = await a.get('/Users');
        expectScimError(refused, 429);
        expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
        expect((await scimClient(limited, tokens[1]!).get('/Users')).status).toBe(200);
      } finally {
        await limited.close();
      }
    });
  });

  describe("Okta's provisioning sequence", () => {
    it('looks up, creates, reads, deactivates, reactivates and replaces a user', async () => {
      const { client, teamId } = await directory();
      const email = uniqueEmail('okta');
      // Test connection: GET /Users?startIndex=1&count=2.
      const probe = await client.get('/Users?startIndex=1&count=2');
      expect(probe.body).toEqual({
        schemas: [LIST_SCHEMA],
        totalResults: 0,
        startIndex: 1,
        itemsPerPage: 0,
        Resources: [],
      });
      const lookup = await client.get(
        `/Users?${filterQuery(`userName eq "${email}"`)}&startIndex=1&count=100`,
      );
      expect(lookup.body).toMatchObject({ totalResults: 0, Resources: [] });

      const body = oktaUser(email);
      const created = await client.post('/Users', body);
      expect(created.status).toBe(201);
      expect(created.headers['content-type']).toMatch(/^application\/scim\+json/);
      const id = created.body.id as string;
      expect(created.headers.location).toMatch(new RegExp(`/scim/v2/Users/${id}$`));
      expect(created.body).toMatchObject({
        schemas: [USER_SCHEMA],
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        externalId: body.externalId,
        userName: email,
        name: { givenName: 'Grace', familyName: 'Hopper' },
        displayName: 'Grace Hopper',
        emails: [{ value: email, type: 'work', primary: true }],
        active: true,
        groups: [],
        meta: {
          resourceType: 'User',
          created: expect.any(String),
          lastModified: expect.any(String),
          location: expect.stringMatching(new RegExp(`/scim/v2/Users/${id}$`)),
          version: 'W/"1"',
        },
      });
      const account = await accountOf(email);
      expect(account).toMatchObject({ name: 'Grace Hopper' });
      expect(await membership(teamId, account!.id)).toMatchObject({ role: 'member' });

      const found = await client.get(
        `/Users?${filterQuery(`userName eq "${email.toUpperCase()}"`)}`,
      );
      expect(found.body).toMatchObject({ totalResults: 1, itemsPerPage: 1, Resources: [{ id }] });
      expect((await client.get(`/Users/${id}`)).body).toMatchObject({ id, active: true });

      const off = await client.patch(
        `/Users/${id}`,
        patchOps({ op: 'replace', value: { active: false } }),
      );
      expect(off.status).toBe(200);
      expect(off.body).toMatchObject({ id, active: false });
      expect(await membership(teamId, account!.id)).toBeUndefined();

      const on = await client.patch(
        `/Users/${id}`,
        patchOps({ op: 'replace', value: { active: true } }),
      );
      expect(on.body).toMatchObject({ id, active: true });
      expect(await membership(teamId, account!.id)).toMatchObject({ role: 'member' });

      const replaced = await client.put(`/Users/${id}`, {
        ...body,
        id,
        name: { givenName: 'Grace', familyName: 'Murray Hopper' },
        displayName: 'Rear Admiral Hopper',
      });
      expect(replaced.status).toBe(200);
      expect(replaced.body).toMatchObject({
        id,
        name: { givenName: 'Grace', familyName: 'Murray Hopper' },
        displayName: 'Rear Admiral Hopper',
        active: true,
      });
      expect(replaced.body.meta.version).toBe('W/"4"');

      const rows = await activityRows(t.db, { teamId, userId: account!.id });
      expect(rows.map((r) => r.action)).toEqual([
        'SCIM_PROVISION_USER',
        'SCIM_DEPROVISION_USER',
        'SCIM_PROVISION_USER',
      ]);
    });

    it("refuses a user past the plan's member limit with a 403 SCIM error naming the plan", async () => {
      const limited = await createTestApp({ env: { FREE_PLAN_LIMITS: 'max_members=2' } });
      try {
        const owner = await signUpVerified(limited);
        const res = await limited.http
          .post(`/api/v1/teams/${owner.team.id}/scim/tokens`)
          .set('Authorization', bearer(owner.accessToken))
          .send({ name: 'Okta' });
        const client = scimClient(limited, (res.body as CreatedToken).token);
        expect((await client.post('/Users', oktaUser(uniqueEmail('seat1')))).status).toBe(201);
        const refused = await client.post('/Users', oktaUser(uniqueEmail('seat2')));
        expectScimError(refused, 403);
        expect(refused.body.detail).toMatch(/^The team's plan allows no more members/);
        // Nothing of the refused request was kept.
        expect((await client.get('/Users')).body).toMatchObject({ totalResults: 1 });
        // Deactivating frees the seat; reactivating past the limit is refused the same way.
        const first = ((await client.get('/Users')).body as { Resources: { id: string }[] })
          .Resources[0]!.id;
        await client.patch(
          `/Users/${first}`,
          patchOps({ op: 'replace', value: { active: false } }),
        );
        const other = await client.post('/Users', oktaUser(uniqueEmail('seat3')));
        expect(other.status).toBe(201);
        expectScimError(
          await client.patch(
            `/Users/${first}`,
            patchOps({ op: 'replace', value: { active: true } }),
          ),
          403,
        );
      } finally {
        await limited.close();
      }
    });

    it('answers a second POST of the same user with 409 uniqueness', async () => {
      const { client } = await directory();
      const email = uniqueEmail('dup');
      expect((await client.post('/Users', oktaUser(email))).status).toBe(201);
      const again = await client.post('/Users', oktaUser(email.toUpperCase()));
      expectScimError(again, 409, 'uniqueness');
      expect(again.body.detail).toContain('already provisioned');
    });

    it('pages with startIndex and count', async () => {
      const { client } = await directory();
      for (let i = 0; i < 3; i++) await client.post('/Users', oktaUser(uniqueEmail(`page${i}`)));
      const page = await client.get('/Users?startIndex=2&count=1');
      expect(page.body).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 1 });
      const counted = await client.get('/Users?count=0');
      expect(counted.body).toMatchObject({ totalResults: 3, itemsPerPage: 0, Resources: [] });
    });
  });

  describe("Microsoft Entra ID's provisioning sequence", () => {
    it('looks up by externalId and userName, creates, and PATCHes with Replace and string booleans', async () => {
      const { client, teamId } = await directory();
      const email = uniqueEmail('entra');
      const externalId = randomBytes(8).toString('hex');
      const byExternal = await client.get(`/Users?${filterQuery(`externalId eq "${externalId}"`)}`);
      expect(byExternal.body).toMatchObject({ totalResults: 0 });
      const byName = await client.get(`/Users?${filterQuery(`userName eq "${email}"`)}`);
      expect(byName.body).toMatchObject({ totalResults: 0 });

      const created = await client.post('/Users', {
        schemas: [USER_SCHEMA, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
        externalId,
        userName: email,
        active: true,
        displayName: 'Alan Turing',
        emails: [{ primary: true, type: 'work', value: email }],
        meta: { resourceType: 'User' },
        name: { formatted: 'Alan Turing', familyName: 'Turing', givenName: 'Alan' },
        roles: [],
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Maths' },
      });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      const found = await client.get(`/Users?${filterQuery(`externalId eq "${externalId}"`)}`);
      expect(found.body).toMatchObject({ totalResults: 1, Resources: [{ id, userName: email }] });
      const byEmail = await client.get(`/Users?${filterQuery(`emails[value eq "${email}"]`)}`);
      expect(byEmail.body).toMatchObject({ totalResults: 1 });

      const updated = await client.patch(
        `/Users/${id}`,
        patchOps(
          { op: 'Replace', path: 'displayName', value: 'A. M. Turing' },
          { op: 'Replace', path: 'name.givenName', value: 'Alan Mathison' },
          { op: 'Replace', path: 'emails[type eq "work"].value', value: email },
          {
            op: 'Add',
            path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department',
            value: 'Computing',
          },
        ),
      );
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({
        displayName: 'A. M. Turing',
        name: { givenName: 'Alan Mathison', familyName: 'Turing' },
      });

      const account = await accountOf(email);
      const off = await client.patch(
        `/Users/${id}`,
        patchOps({ op: 'Replace', path: 'active', value: 'False' }),
      );
      expect(off.body).toMatchObject({ active: false });
      expect(await membership(teamId, account!.id)).toBeUndefined();
      const on = await client.patch(
        `/Users/${id}`,
        patchOps({ op: 'Replace', path: 'active', value: 'True' }),
      );
      expect(on.body).toMatchObject({ active: true });
      expect(await membership(teamId, account!.id)).toMatchObject({ role: 'member' });

      // Entra's hard delete once the user is out of scope for 30 days.
      expect((await client.delete(`/Users/${id}`)).status).toBe(204);
      expect(await membership(teamId, account!.id)).toBeUndefined();
      expectScimError(await client.get(`/Users/${id}`), 404);
    });

    it('creates groups, adds and removes members by PATCH, filters by displayName', async () => {
      const { client } = await directory();
      const a = (await client.post('/Users', oktaUser(uniqueEmail('ga')))).body.id as string;
      const b = (await client.post('/Users', oktaUser(uniqueEmail('gb')))).body.id as string;
      const lookup = await client.get(
        `/Groups?${filterQuery('displayName eq "Engineering"')}&excludedAttributes=members`,
      );
      expect(lookup.body).toMatchObject({ totalResults: 0 });
      const created = await client.post('/Groups', {
        schemas: [GROUP_SCHEMA],
        externalId: 'grp-1',
        displayName: 'Engineering',
        members: [],
      });
      expect(created.status).toBe(201);
      const gid = created.body.id as string;
      await client.patch(
        `/Groups/${gid}`,
        patchOps({ op: 'Add', path: 'members', value: [{ value: a }, { value: b }] }),
      );
      const read = await client.get(`/Groups/${gid}`);
      expect(read.body).toMatchObject({
        displayName: 'Engineering',
        members: [{ value: a }, { value: b }],
      });
      expect((await client.get(`/Users/${a}`)).body).toMatchObject({
        groups: [{ value: gid, display: 'Engineering' }],
      });
      // Entra without aadOptscim062020: remove with a value list.
      await client.patch(
        `/Groups/${gid}`,
        patchOps({ op: 'Remove', path: 'members', value: [{ value: a }] }),
      );
      const listed = await client.get(`/Groups?${filterQuery('displayName eq "engineering"')}`);
      expect(listed.body).toMatchObject({
        totalResults: 1,
        Resources: [{ id: gid, members: [{ value: b }] }],
      });
      const slim = await client.get(`/Groups/${gid}?excludedAttributes=members`);
      expect(slim.body.members).toBeUndefined();
      expect(slim.body.displayName).toBe('Engineering');
      const byMember = await client.get(
        `/Groups?${filterQuery(`id eq "${gid}" and members[value eq "${a}"]`)}`,
      );
      expect(byMember.body).toMatchObject({ totalResults: 0 });
      expectScimError(
        await client.post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'ENGINEERING' }),
        409,
        'uniqueness',
      );
      expectScimError(
        await client.patch(
          `/Groups/${gid}`,
          patchOps({
            op: 'add',
            path: 'members',
            value: [{ value: '7e6f0c36-0000-4000-8000-000000000000' }],
          }),
        ),
        400,
        'invalidValue',
      );
      expect((await client.delete(`/Groups/${gid}`)).status).toBe(204);
      expectScimError(await client.get(`/Groups/${gid}`), 404);
    });
  });

  describe('the owner group', () => {
    it('makes its members owners and removing them members, never the last owner (409)', async () => {
      const { owner, client, teamId } = await directory();
      // The team's founder is linked by the directory too.
      const founder = (await client.post('/Users', oktaUser(owner.email))).body.id as string;
      const email = uniqueEmail('boss');
      const boss = (await client.post('/Users', oktaUser(email))).body.id as string;
      const bossAccount = await accountOf(email);

      const group = await client.post('/Groups', {
        schemas: [GROUP_SCHEMA],
        displayName: 'Owners',
        members: [{ value: boss }],
      });
      expect(group.status).toBe(201);
      const gid = group.body.id as string;
      expect(await membership(teamId, bossAccount!.id)).toMatchObject({ role: 'owner' });

      // Okta's removal by value path: boss back to member, the founder still owns the team.
      await client.patch(
        `/Groups/${gid}`,
        patchOps({ op: 'remove', path: `members[value eq "${boss}"]` }),
      );
      expect(await membership(teamId, bossAccount!.id)).toMatchObject({ role: 'member' });

      // The founder joins the group, then leaves it: the last owner stays an owner.
      await client.patch(
        `/Groups/${gid}`,
        patchOps({ op: 'add', path: 'members', value: [{ value: founder }] }),
      );
      const refused = await client.patch(
        `/Groups/${gid}`,
        patchOps({ op: 'remove', path: `members[value eq "${founder}"]` }),
      );
      expectScimError(refused, 409);
      expect(refused.body.detail).toMatch(/owner/i);
      expect(await membership(teamId, owner.user.id)).toMatchObject({ role: 'owner' });
      expect((await client.get(`/Groups/${gid}`)).body.members).toEqual([
        expect.objectContaining({ value: founder }),
      ]);
      // Nor deprovisioned while they are the last owner.
      expectScimError(
        await client.patch(
          `/Users/${founder}`,
          patchOps({ op: 'replace', value: { active: false } }),
        ),
        409,
      );

      // A hand-over in one request: boss promoted first, founder demoted after.
      const handOver = await client.patch(
        `/Groups/${gid}`,
        patchOps({ op: 'replace', path: 'members', value: [{ value: boss }] }),
      );
      expect(handOver.status).toBe(200);
      expect(await membership(teamId, bossAccount!.id)).toMatchObject({ role: 'owner' });
      expect(await membership(teamId, owner.user.id)).toMatchObject({ role: 'member' });

      // A reactivated member of the owner group is an owner again.
      await client.patch(
        `/Groups/${gid}`,
        patchOps({ op: 'add', path: 'members', value: [{ value: founder }] }),
      );
      await client.patch(
        `/Users/${founder}`,
        patchOps({ op: 'replace', value: { active: false } }),
      );
      await client.patch(`/Users/${founder}`, patchOps({ op: 'replace', value: { active: true } }));
      expect(await membership(teamId, owner.user.id)).toMatchObject({ role: 'owner' });
      const roleRows = await activityRows(t.db, { teamId, action: 'UPDATE_TEAM_MEMBER' });
      expect(roleRows.length).toBeGreaterThanOrEqual(4);
    });
  });

  describe('deprovisioning and accounts', () => {
    it("ends the sessions of a deprovisioned user of the team's verified domain at once", async () => {
      const { client, teamId } = await directory();
      const domain = `corp-${randomBytes(5).toString('hex')}.test`;
      await t.db
        .insert(teamDomains)
        .values({ teamId, domain, txtValue: 'x', verifiedAt: new Date() });
      const person = await signUpVerified(t, { email: `pat@${domain}` });
      const id = (await client.post('/Users', oktaUser(person.email))).body.id as string;
      expect(await membership(teamId, person.user.id)).toMatchObject({ role: 'member' });
      const me = () =>
        t.http.get('/api/v1/users/me').set('Authorization', bearer(person.accessToken));
      expect((await me()).status).toBe(200);
      await client.patch(`/Users/${id}`, patchOps({ op: 'replace', value: { active: false } }));
      expect((await me()).status).toBe(401);
      const refresh = await t.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: person.refreshToken });
      expect(refresh.status).toBe(401);
      expect(await membership(teamId, person.user.id)).toBeUndefined();
    });

    it('only removes the membership of a linked account outside its verified domains (no cross-team sign-out)', async () => {
      const { client, teamId } = await directory();
      const person = await signUpVerified(t);
      const id = (await client.post('/Users', oktaUser(person.email))).body.id as string;
      await client.patch(`/Users/${id}`, patchOps({ op: 'replace', value: { active: false } }));
      expect(await membership(teamId, person.user.id)).toBeUndefined();
      expect(await membership(person.team.id, person.user.id)).toMatchObject({ role: 'owner' });
      const me = await t.http
        .get('/api/v1/users/me')
        .set('Authorization', bearer(person.accessToken));
      expect(me.status).toBe(200);
      expect(
        (await activityRows(t.db, { teamId, userId: person.user.id })).map((r) => r.action),
      ).toEqual(['SCIM_PROVISION_USER', 'SCIM_DEPROVISION_USER']);
    });

    it('creates new accounts verified on a verified domain, else sends a verification mail', async () => {
      const { client, teamId } = await directory();
      const domain = `corp-${randomBytes(5).toString('hex')}.test`;
      await t.db.insert(teamDomains).values({
        teamId,
        domain,
        txtValue: 'x',
        verifiedAt: new Date(),
      });
      const inDomain = `ada@${domain}`;
      await client.post('/Users', oktaUser(inDomain));
      const verified = await accountOf(inDomain);
      expect(verified!.emailVerifiedAt).not.toBeNull();
      expect(
        await t.db
          .select()
          .from(emailVerificationTokens)
          .where(eq(emailVerificationTokens.userId, verified!.id)),
      ).toHaveLength(0);

      const outside = uniqueEmail('outside');
      await client.post('/Users', oktaUser(outside));
      const unverified = await accountOf(outside);
      expect(unverified!.emailVerifiedAt).toBeNull();
      expect(
        await t.db
          .select()
          .from(emailVerificationTokens)
          .where(eq(emailVerificationTokens.userId, unverified!.id)),
      ).toHaveLength(1);
      // No usable password: the account signs in through SSO or a password reset.
      const signIn = await t.http
        .post('/api/v1/auth/sign-in')
        .send({ email: outside, password: 'x'.repeat(12) });
      expect(signIn.status).toBe(401);
    });
  });

  describe('back office', () => {
    it("lists a team's tokens without their hash, and an admin revokes one (activity by the admin)", async () => {
      const { token, client, teamId } = await directory();
      const [stored] = await t.db.select().from(scimTokens).where(eq(scimTokens.id, token.id));
      const [admin] = await t.db.select().from(users).where(eq(users.email, 'admin@test.com'));
      const agent = supertest.agent(t.app.getHttpServer());
      await agent
        .post('/admin/login')
        .type('form')
        .send({ email: 'admin@test.com', password: 'admin123' })
        .expect(302);
      const list = await agent
        .get(`/admin/api/resources/scim_tokens/actions/list?filters.teamId=${teamId}`)
        .expect(200);
      expect(list.body.records.map((r: { id: string }) => Number(r.id))).toEqual([token.id]);
      const show = await agent
        .get(`/admin/api/resources/scim_tokens/records/${token.id}/show`)
        .expect(200);
      expect(show.body.record.params).toMatchObject({ teamId, name: 'Okta' });
      for (const body of [list.body, show.body]) {
        expect(JSON.stringify(body)).not.toContain(stored!.hash);
        expect(JSON.stringify(body)).not.toContain(token.token);
      }
      const teamPage = await agent
        .get(`/admin/api/resources/teams/records/${teamId}/show`)
        .expect(200);
      expect(teamPage.body.record.params.scimTokens).toMatch(
        new RegExp(`^Okta \\(${token.prefix}\\) — created \\d{4}-\\d{2}-\\d{2}, never used$`),
      );
      // A GET of the action never revokes.
      await agent.get(`/admin/api/resources/scim_tokens/records/${token.id}/revoke`);
      expect((await client.get('/Users')).status).toBe(200);

      const revoked = await agent
        .post(`/admin/api/resources/scim_tokens/records/${token.id}/revoke`)
        .expect(200);
      expect(revoked.body.notice).toMatchObject({ type: 'success' });
      expectScimError(await client.get('/Users'), 401);
      const after = await agent.get(`/admin/api/resources/teams/records/${teamId}/show`);
      expect(after.body.record.params.scimTokens).toBe('—');
      const logs = await activityRows(t.db, { teamId, action: 'REVOKE_SCIM_TOKEN' });
      expect(logs.map((l) => l.userId)).toEqual([admin!.id]);
    });
  });

  describe('isolation between teams', () => {
    it("never shows team A's directory to team B's token", async () => {
      const a = await directory();
      const b = await directory();
      const email = uniqueEmail('iso');
      const userId = (await a.client.post('/Users', oktaUser(email))).body.id as string;
      const groupId = (
        await a.client.post('/Groups', {
          schemas: [GROUP_SCHEMA],
          displayName: 'Sales',
          members: [{ value: userId }],
        })
      ).body.id as string;

      expect((await b.client.get('/Users')).body).toMatchObject({ totalResults: 0 });
      expect(
        (await b.client.get(`/Users?${filterQuery(`userName eq "${email}"`)}`)).body,
      ).toMatchObject({
        totalResults: 0,
      });
      expect((await b.client.get('/Groups')).body).toMatchObject({ totalResults: 0 });
      expectScimError(await b.client.get(`/Users/${userId}`), 404);
      expectScimError(await b.client.put(`/Users/${userId}`, oktaUser(email)), 404);
      expectScimError(
        await b.client.patch(
          `/Users/${userId}`,
          patchOps({ op: 'replace', value: { active: false } }),
        ),
        404,
      );
      expectScimError(await b.client.delete(`/Users/${userId}`), 404);
      expectScimError(await b.client.get(`/Groups/${groupId}`), 404);
      expectScimError(await b.client.delete(`/Groups/${groupId}`), 404);
      // B may provision the same person into its own team: a directory of its own.
      const own = await b.client.post('/Users', oktaUser(email));
      expect(own.status).toBe(201);
      expect(own.body.id).not.toBe(userId);
      // And cannot put A's user into its groups.
      expectScimError(
        await b.client.post('/Groups', {
          schemas: [GROUP_SCHEMA],
          displayName: 'X',
          members: [{ value: userId }],
        }),
        400,
        'invalidValue',
      );
      expect((await a.client.get(`/Users/${userId}`)).body).toMatchObject({ active: true });
    });
  });
});
