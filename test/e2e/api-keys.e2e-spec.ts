import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq } from 'drizzle-orm';
import { createHash } from 'node:crypto';
import supertest from 'supertest';
import { API_KEY_SCOPES, type ApiKeyScope } from '../../src/common/auth/actor.js';
import {
  apiKeys,
  invitations,
  teamMembers,
  users,
  type TeamRole,
} from '../../src/database/schema.js';
import { activityRows } from '../support/activity.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, signUp, signUpVerified, type SignedUp } from '../support/auth.js';
import { expect429 } from '../support/rate-limit.js';

interface CreatedKey {
  id: number;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  createdAt: string;
  expiresAt: string | null;
  key: string;
}

type Method = 'get' | 'post' | 'patch' | 'delete';

describe('team API keys (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  async function addMember(teamId: number, userId: number, role: TeamRole): Promise<number> {
    const [row] = await t.db.insert(teamMembers).values({ teamId, userId, role }).returning();
    return row!.id;
  }

  async function createKey(
    app: TestApp,
    owner: SignedUp,
    scopes: readonly ApiKeyScope[],
    extra: { name?: string; expiresAt?: string } = {},
  ): Promise<CreatedKey> {
    const res = await app.http
      .post(`/api/v1/teams/${owner.team.id}/api-keys`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ name: extra.name ?? 'bot', scopes, ...extra });
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 201 });
    return res.body as CreatedKey;
  }

  function call(route: { method: Method; path: string; body?: object }, token: string) {
    const req = t.http[route.method](route.path).set('Authorization', bearer(token));
    return route.body === undefined ? req : req.send(route.body);
  }

  /** An owner's team with one plain member and one pending invitation. */
  async function world() {
    const owner = await signUpVerified(t, { name: 'Key Owner' });
    const member = await signUp(t, { name: 'Plain Member' });
    const teamId = owner.team.id;
    const memberId = await addMember(teamId, member.user.id, 'member');
    const [invitation] = await t.db
      .insert(invitations)
      .values({ teamId, email: uniqueEmail('pending'), role: 'member', invitedBy: owner.user.id })
      .returning();
    return { owner, member, teamId, memberId, invitationId: invitation!.id };
  }

  describe('managing keys (owners, with an access token)', () => {
    it('creates a key shown once, stores only its hash, lists it without the key, logs CREATE_API_KEY', async () => {
      const { owner, teamId } = await world();
      const created = await createKey(t, owner, ['team:read', 'activity:read'], {
        name: '  CI bot  ',
        expiresAt: '2099-01-01T00:00:00Z',
      });
      expect(created).toEqual({
        id: expect.any(Number),
        name: 'CI bot',
        prefix: expect.stringMatching(/^nsk_[0-9a-f]{12}$/),
        scopes: ['team:read', 'activity:read'],
        createdAt: expect.any(String),
        expiresAt: '2099-01-01T00:00:00.000Z',
        key: expect.stringMatching(/^nsk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/),
      });
      expect(created.key.startsWith(`${created.prefix}_`)).toBe(true);

      const [row] = await t.db.select().from(apiKeys).where(eq(apiKeys.id, created.id));
      expect(row).toMatchObject({
        teamId,
        createdBy: owner.user.id,
        prefix: created.prefix,
        hash: createHash('sha256').update(created.key).digest('hex'),
        revokedAt: null,
        lastUsedAt: null,
      });
      expect(JSON.stringify(row)).not.toContain(created.key);

      const list = await t.http
        .get(`/api/v1/teams/${teamId}/api-keys`)
        .set('Authorization', bearer(owner.accessToken));
      expect(list.status).toBe(200);
      expect(list.body).toEqual({
        items: [
          {
            id: created.id,
            name: 'CI bot',
            prefix: created.prefix,
            scopes: ['team:read', 'activity:read'],
            createdAt: created.createdAt,
            expiresAt: '2099-01-01T00:00:00.000Z',
            lastUsedAt: null,
            createdBy: owner.user.id,
          },
        ],
        nextCursor: null,
      });
      expect(JSON.stringify(list.body)).not.toContain(created.key);
      expect(JSON.stringify(list.body)).not.toContain(row!.hash);

      const logs = await activityRows(t.db, { teamId, action: 'CREATE_API_KEY' });
      expect(logs.map((l) => [l.userId, l.ipAddress])).toEqual([[owner.user.id, '127.0.0.1']]);
    });

    it('paginates the list, newest first', async () => {
      const { owner, teamId } = await world();
      const a = await createKey(t, owner, ['team:read'], { name: 'a' });
      const b = await createKey(t, owner, ['team:read'], { name: 'b' });
      const c = await createKey(t, owner, ['team:read'], { name: 'c' });
      const auth = bearer(owner.accessToken);
      const page1 = await t.http
        .get(`/api/v1/teams/${teamId}/api-keys?limit=2`)
        .set('Authorization', auth);
      expect(page1.body.items.map((k: { id: number }) => k.id)).toEqual([c.id, b.id]);
      const page2 = await t.http
        .get(`/api/v1/teams/${teamId}/api-keys?limit=2&cursor=${page1.body.nextCursor as string}`)
        .set('Authorization', auth);
      expect(page2.body).toEqual({
        items: [expect.objectContaining({ id: a.id })],
        nextCursor: null,
      });
    });

    it('rejects bad input with 400 and writes nothing', async () => {
      const { owner, teamId } = await world();
      for (const body of [
        { name: 'x', scopes: [] },
        { name: 'x', scopes: ['team:read', 'team:read'] },
        { name: 'x', scopes: ['billing:write'] },
        { name: 'x', scopes: 'team:read' },
        { name: '', scopes: ['team:read'] },
        { scopes: ['team:read'] },
        { name: 'x', scopes: ['team:read'], expiresAt: '2000-01-01T00:00:00Z' },
        { name: 'x', scopes: ['team:read'], expiresAt: '2030-01-01' },
        { name: 'x', scopes: ['team:read'], expiresAt: '2030-13-45T99:00:00Z' },
        { name: 'x', scopes: ['team:read'], hash: 'mine' },
      ]) {
        const res = await t.http
          .post(`/api/v1/teams/${teamId}/api-keys`)
          .set('Authorization', bearer(owner.accessToken))
          .send(body);
        expect({ body, status: res.status, code: res.body.code }).toEqual({
          body,
          status: 400,
          code: 'request.invalid',
        });
      }
      expect(await t.db.select().from(apiKeys).where(eq(apiKeys.teamId, teamId))).toEqual([]);
    });

    it('is for owners only: a member gets 403, an outsider 404', async () => {
      const { owner, member, teamId } = await world();
      const key = await createKey(t, owner, ['team:read']);
      const outsider = await signUp(t);
      const routes = [
        {
          method: 'post',
          path: `/api/v1/teams/${teamId}/api-keys`,
          body: { name: 'x', scopes: ['team:read'] },
        },
        { method: 'get', path: `/api/v1/teams/${teamId}/api-keys` },
        { method: 'delete', path: `/api/v1/teams/${teamId}/api-keys/${key.id}` },
      ] as const;
      for (const route of routes) {
        const asMember = await call(route, member.accessToken);
        expect({ route: route.method, status: asMember.status, code: asMember.body.code }).toEqual({
          route: route.method,
          status: 403,
          code: 'team.forbidden',
        });
        const asOutsider = await call(route, outsider.accessToken);
        expect({ route: route.method, status: asOutsider.status }).toEqual({
          route: route.method,
          status: 404,
        });
      }
    });

    it('revokes a key: it stops at once, leaves the list, logs REVOKE_API_KEY once', async () => {
      const { owner, teamId } = await world();
      const key = await createKey(t, owner, ['team:read']);
      expect((await call({ method: 'get', path: `/api/v1/teams/${teamId}` }, key.key)).status).toBe(
        200,
      );

      const revoke = {
        method: 'delete',
        path: `/api/v1/teams/${teamId}/api-keys/${key.id}`,
      } as const;
      expect((await call(revoke, owner.accessToken)).status).toBe(204);
      const after = await call({ method: 'get', path: `/api/v1/teams/${teamId}` }, key.key);
      expect({ status: after.status, code: after.body.code }).toEqual({
        status: 401,
        code: 'auth.unauthorized',
      });
      const list = await t.http
        .get(`/api/v1/teams/${teamId}/api-keys`)
        .set('Authorization', bearer(owner.accessToken));
      expect(list.body.items).toEqual([]);
      // Again: a no-op, no second row.
      expect((await call(revoke, owner.accessToken)).status).toBe(204);
      const logs = await activityRows(t.db, { teamId, action: 'REVOKE_API_KEY' });
      expect(logs.map((l) => l.userId)).toEqual([owner.user.id]);
    });

    it("answers 404 for another team's key or an unknown id, and revokes nothing", async () => {
      const a = await world();
      const b = await world();
      const bKey = await createKey(t, b.owner, ['team:read']);
      for (const id of [bKey.id, 2_000_000_000]) {
        const res = await call(
          { method: 'delete', path: `/api/v1/teams/${a.teamId}/api-keys/${id}` },
          a.owner.accessToken,
        );
        expect({ status: res.status, code: res.body.code }).toEqual({
          status: 404,
          code: 'api_key.not_found',
        });
      }
      expect(
        (await call({ method: 'get', path: `/api/v1/teams/${b.teamId}` }, bKey.key)).status,
      ).toBe(200);
    });
  });

  describe('using a key', () => {
    /** Every route that accepts keys, with the scope it needs and a request that succeeds. */
    function keyRoutes(w: Awaited<ReturnType<typeof world>>) {
      const base = `/api/v1/teams/${w.teamId}`;
      return [
        { scope: 'team:read', method: 'get', path: base, ok: 200 },
        {
          scope: 'members:write',
          method: 'patch',
          path: `${base}/members/${w.memberId}`,
          body: { role: 'member' },
          ok: 200,
        },
        { scope: 'activity:read', method: 'get', path: `${base}/activity`, ok: 200 },
        { scope: 'invitations:write', method: 'get', path: `${base}/invitations`, ok: 200 },
        {
          scope: 'invitations:write',
          method: 'post',
          path: `${base}/invitations`,
          body: { email: uniqueEmail('by-key'), role: 'member' },
          ok: 201,
        },
        {
          scope: 'invitations:write',
          method: 'delete',
          path: `${base}/invitations/${w.invitationId}`,
          ok: 204,
        },
        // Last: it removes the member.
        {
          scope: 'members:write',
          method: 'delete',
          path: `${base}/members/${w.memberId}`,
          ok: 204,
        },
      ] as const;
    }

    it.each(API_KEY_SCOPES)(
      'with only %s: allowed exactly its routes, 403 api_key.scope_missing on the others',
      async (scope) => {
        const w = await world();
        const key = await createKey(t, w.owner, [scope]);
        for (const route of keyRoutes(w)) {
          const res = await call(route, key.key);
          const expected =
            route.scope === scope
              ? { status: route.ok, code: undefined }
              : { status: 403, code: 'api_key.scope_missing' };
          expect({
            route: `${route.method} ${route.path}`,
            status: res.status,
            code: res.body.code,
          }).toEqual({
            route: `${route.method} ${route.path}`,
            ...expected,
          });
        }
      },
    );

    it('with every scope, does what an owner may on those routes', async () => {
      const w = await world();
      const key = await createKey(t, w.owner, API_KEY_SCOPES);
      for (const route of keyRoutes(w)) {
        const res = await call(route, key.key);
        expect({ route: `${route.method} ${route.path}`, status: res.status }).toEqual({
          route: `${route.method} ${route.path}`,
          status: route.ok,
        });
      }
      const members = await t.db.select().from(teamMembers).where(eq(teamMembers.teamId, w.teamId));
      expect(members.map((m) => m.userId)).toEqual([w.owner.user.id]);
    });

    it("answers 404 on another team's routes, whatever its scopes, and changes nothing there", async () => {
      const mine = await world();
      const other = await world();
      const key = await createKey(t, mine.owner, API_KEY_SCOPES);
      for (const route of keyRoutes(other)) {
        const res = await call(route, key.key);
        expect({
          route: `${route.method} ${route.path}`,
          status: res.status,
          code: res.body.code,
        }).toEqual({
          route: `${route.method} ${route.path}`,
          status: 404,
          code: 'team.not_found',
        });
      }
      const members = await t.db
        .select()
        .from(teamMembers)
        .where(eq(teamMembers.teamId, other.teamId));
      expect(members).toHaveLength(2);
    });

    it('is refused (401) everywhere else: account, teams list, rename, billing, keys, invitations, activity', async () => {
      const w = await world();
      const key = await createKey(t, w.owner, API_KEY_SCOPES);
      const base = `/api/v1/teams/${w.teamId}`;
      const routes = [
        { method: 'get', path: '/api/v1/users/me' },
        { method: 'patch', path: '/api/v1/users/me', body: { name: 'Pwned' } },
        { method: 'get', path: '/api/v1/teams' },
        { method: 'post', path: '/api/v1/teams', body: { name: 'Mine now' } },
        { method: 'patch', path: base, body: { name: 'Renamed by key' } },
        { method: 'post', path: `${base}/billing/checkout`, body: { priceId: 'price_1' } },
        { method: 'post', path: `${base}/billing/portal` },
        { method: 'get', path: `${base}/api-keys` },
        {
          method: 'post',
          path: `${base}/api-keys`,
          body: { name: 'child', scopes: ['team:read'] },
        },
        { method: 'delete', path: `${base}/api-keys/${key.id}` },
        { method: 'get', path: '/api/v1/invitations' },
        { method: 'post', path: `/api/v1/invitations/${w.invitationId}/accept` },
        { method: 'get', path: '/api/v1/activity' },
        { method: 'post', path: '/api/v1/auth/sign-out' },
      ] as const;
      for (const route of routes) {
        const res = await call(route, key.key);
        expect({
          route: `${route.method} ${route.path}`,
          status: res.status,
          code: res.body.code,
        }).toEqual({
          route: `${route.method} ${route.path}`,
          status: 401,
          code: 'auth.unauthorized',
        });
      }
      // Still a working key, and nothing was created with it.
      expect((await call({ method: 'get', path: base }, key.key)).status).toBe(200);
      expect(await t.db.select().from(apiKeys).where(eq(apiKeys.teamId, w.teamId))).toHaveLength(1);
    });

    it('refuses malformed, unknown, tampered and expired keys with 401', async () => {
      const w = await world();
      const key = await createKey(t, w.owner, ['team:read']);
      const path = `/api/v1/teams/${w.teamId}`;
      const last = key.key.at(-1) === 'A' ? 'B' : 'A';
      for (const token of [
        'nsk_',
        'nsk_nothing',
        `${key.key.slice(0, -1)}${last}`,
        `nsk_000000000000_${key.key.slice(-43)}`,
      ]) {
        const res = await call({ method: 'get', path }, token);
        expect({ token, status: res.status, code: res.body.code }).toEqual({
          token,
          status: 401,
          code: 'auth.unauthorized',
        });
      }
      expect((await call({ method: 'get', path }, key.key)).status).toBe(200);
      await t.db
        .update(apiKeys)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(apiKeys.id, key.id));
      const expired = await call({ method: 'get', path }, key.key);
      expect({ status: expired.status, code: expired.body.code }).toEqual({
        status: 401,
        code: 'auth.unauthorized',
      });
    });

    it("writes activity in its creator's name, from the caller's IP", async () => {
      const w = await world();
      const coOwner = await signUpVerified(t, { name: 'Co-owner' });
      await addMember(w.teamId, coOwner.user.id, 'owner');
      // Created by the co-owner: rows must name them, not the team's first owner.
      const res = await t.http
        .post(`/api/v1/teams/${w.teamId}/api-keys`)
        .set('Authorization', bearer(coOwner.accessToken))
        .send({ name: 'sync', scopes: ['members:write', 'invitations:write'] });
      const key = (res.body as CreatedKey).key;
      const email = uniqueEmail('invited-by-key');
      const invite = await call(
        {
          method: 'post',
          path: `/api/v1/teams/${w.teamId}/invitations`,
          body: { email, role: 'member' },
        },
        key,
      );
      expect(invite.status).toBe(201);
      expect(invite.body).toMatchObject({ invitedBy: coOwner.user.id, invitedByName: 'Co-owner' });
      // A key never grants `owner` (API.md v1.2), but it may demote a second owner.
      await t.db.update(teamMembers).set({ role: 'owner' }).where(eq(teamMembers.id, w.memberId));
      await call(
        {
          method: 'patch',
          path: `/api/v1/teams/${w.teamId}/members/${w.memberId}`,
          body: { role: 'member' },
        },
        key,
      ).expect(200);
      await call(
        { method: 'delete', path: `/api/v1/teams/${w.teamId}/members/${w.memberId}` },
        key,
      );
      await call(
        { method: 'delete', path: `/api/v1/teams/${w.teamId}/invitations/${w.invitationId}` },
        key,
      );
      const rows = (await activityRows(t.db, { teamId: w.teamId })).filter((r) =>
        [
          'INVITE_TEAM_MEMBER',
          'UPDATE_TEAM_MEMBER',
          'REMOVE_TEAM_MEMBER',
          'REVOKE_INVITATION',
        ].includes(r.action),
      );
      expect(rows.map((r) => [r.action, r.userId, r.ipAddress])).toEqual([
        ['INVITE_TEAM_MEMBER', coOwner.user.id, '127.0.0.1'],
        ['UPDATE_TEAM_MEMBER', coOwner.user.id, '127.0.0.1'],
        ['REMOVE_TEAM_MEMBER', coOwner.user.id, '127.0.0.1'],
        ['REVOKE_INVITATION', coOwner.user.id, '127.0.0.1'],
      ]);
    });

    it('acts with owner powers on members, but never removes or demotes the last owner', async () => {
      const w = await world();
      const key = await createKey(t, w.owner, ['members:write']);
      const [ownerMembership] = await t.db
        .select()
        .from(teamMembers)
        .where(and(eq(teamMembers.teamId, w.teamId), eq(teamMembers.userId, w.owner.user.id)));
      const path = `/api/v1/teams/${w.teamId}/members/${ownerMembership!.id}`;
      for (const route of [
        { method: 'delete', path },
        { method: 'patch', path, body: { role: 'member' } },
      ] as const) {
        const res = await call(route, key.key);
        expect({ status: res.status, code: res.body.code }).toEqual({
          status: 409,
          code: 'team.last_owner',
        });
      }
      const unknown = await call(
        { method: 'delete', path: `/api/v1/teams/${w.teamId}/members/2000000000` },
        key.key,
      );
      expect(unknown.body.code).toBe('team.member_not_found');
    });

    it('records lastUsedAt on use, at most once a minute', async () => {
      const w = await world();
      const key = await createKey(t, w.owner, ['team:read']);
      const lastUsed = async () =>
        (await t.db.select().from(apiKeys).where(eq(apiKeys.id, key.id)))[0]!.lastUsedAt;
      expect(await lastUsed()).toBeNull();
      const before = Date.now();
      await call({ method: 'get', path: `/api/v1/teams/${w.teamId}` }, key.key).expect(200);
      const first = await lastUsed();
      expect(first).not.toBeNull();
      expect(first!.getTime()).toBeGreaterThanOrEqual(before - 1000);
      await call({ method: 'get', path: `/api/v1/teams/${w.teamId}` }, key.key).expect(200);
      expect(await lastUsed()).toEqual(first);

      // Over a minute ago: the next use records again.
      const old = new Date(Date.now() - 61_000);
      await t.db.update(apiKeys).set({ lastUsedAt: old }).where(eq(apiKeys.id, key.id));
      await call({ method: 'get', path: `/api/v1/teams/${w.teamId}` }, key.key).expect(200);
      expect((await lastUsed())!.getTime()).toBeGreaterThan(old.getTime() + 60_000);

      const list = await t.http
        .get(`/api/v1/teams/${w.teamId}/api-keys`)
        .set('Authorization', bearer(w.owner.accessToken));
      expect(list.body.items[0].lastUsedAt).toEqual(expect.any(String));
    });
  });

  describe('never creates or grants the owner role (API.md v1.2)', () => {
    /** A verified owner's team with a plain member, and a key with the given scopes. */
    async function keyWorld(scopes: readonly ApiKeyScope[]) {
      const owner = await signUpVerified(t, { name: 'Key Owner' });
      const member = await signUpVerified(t, { name: 'Plain Member' });
      const teamId = owner.team.id;
      const memberId = await addMember(teamId, member.user.id, 'member');
      const key = await createKey(t, owner, scopes);
      return { owner, member, teamId, memberId, key };
    }

    async function invitationsTo(email: string) {
      return t.db.select().from(invitations).where(eq(invitations.email, email));
    }

    it('an invitations:write key inviting as owner gets 403 api_key.role_forbidden; no invitation, no activity', async () => {
      const w = await keyWorld(['invitations:write']);
      const email = uniqueEmail('outsider');
      const res = await call(
        {
          method: 'post',
          path: `/api/v1/teams/${w.teamId}/invitations`,
          body: { email, role: 'owner' },
        },
        w.key.key,
      );
      expect({ status: res.status, code: res.body.code }).toEqual({
        status: 403,
        code: 'api_key.role_forbidden',
      });
      expect(await invitationsTo(email)).toEqual([]);
      expect(await activityRows(t.db, { teamId: w.teamId, action: 'INVITE_TEAM_MEMBER' })).toEqual(
        [],
      );

      // The outsider therefore has no link to sign up into the team with.
      const outsider = await signUp(t, { email });
      const joined = await t.db
        .select()
        .from(teamMembers)
        .where(and(eq(teamMembers.teamId, w.teamId), eq(teamMembers.userId, outsider.user.id)));
      expect(joined).toEqual([]);
    });

    it('a members:write key promoting a member to owner gets 403 api_key.role_forbidden; the role is unchanged', async () => {
      const w = await keyWorld(['members:write']);
      const res = await call(
        {
          method: 'patch',
          path: `/api/v1/teams/${w.teamId}/members/${w.memberId}`,
          body: { role: 'owner' },
        },
        w.key.key,
      );
      expect({ status: res.status, code: res.body.code }).toEqual({
        status: 403,
        code: 'api_key.role_forbidden',
      });
      const [row] = await t.db.select().from(teamMembers).where(eq(teamMembers.id, w.memberId));
      expect(row!.role).toBe('member');
      expect(await activityRows(t.db, { teamId: w.teamId, action: 'UPDATE_TEAM_MEMBER' })).toEqual(
        [],
      );
    });

    it('a key with every scope still invites members and demotes an owner to member', async () => {
      const w = await keyWorld(API_KEY_SCOPES);
      const email = uniqueEmail('by-key');
      const invited = await call(
        {
          method: 'post',
          path: `/api/v1/teams/${w.teamId}/invitations`,
          body: { email, role: 'member' },
        },
        w.key.key,
      );
      expect({ status: invited.status, role: invited.body.role }).toEqual({
        status: 201,
        role: 'member',
      });
      expect((await invitationsTo(email)).map((i) => i.role)).toEqual(['member']);

      // A second owner (made by the owner, not the key) may be demoted to member by the key.
      await t.db.update(teamMembers).set({ role: 'owner' }).where(eq(teamMembers.id, w.memberId));
      const demoted = await call(
        {
          method: 'patch',
          path: `/api/v1/teams/${w.teamId}/members/${w.memberId}`,
          body: { role: 'member' },
        },
        w.key.key,
      );
      expect({ status: demoted.status, role: demoted.body.role }).toEqual({
        status: 200,
        role: 'member',
      });
    });

    it('the owner with an access token may still invite and promote owners', async () => {
      const w = await keyWorld(['team:read']);
      const invited = await t.http
        .post(`/api/v1/teams/${w.teamId}/invitations`)
        .set('Authorization', bearer(w.owner.accessToken))
        .send({ email: uniqueEmail('co-owner'), role: 'owner' });
      expect({ status: invited.status, role: invited.body.role }).toEqual({
        status: 201,
        role: 'owner',
      });
      const promoted = await t.http
        .patch(`/api/v1/teams/${w.teamId}/members/${w.memberId}`)
        .set('Authorization', bearer(w.owner.accessToken))
        .send({ role: 'owner' });
      expect({ status: promoted.status, role: promoted.body.role }).toEqual({
        status: 200,
        role: 'owner',
      });
    });
  });

  describe('rate limit per key', () => {
    let limited: TestApp;

    beforeAll(async () => {
      limited = await createTestApp({ env: { API_KEY_RATE_LIMIT: '3' } });
    });

    afterAll(async () => {
      await limited.close();
    });

    it('answers 429 with Retry-After past API_KEY_RATE_LIMIT per minute, per key', async () => {
      const owner = await signUpVerified(limited);
      const a = await createKey(limited, owner, ['team:read']);
      const b = await createKey(limited, owner, ['team:read']);
      const path = `/api/v1/teams/${owner.team.id}`;
      for (let i = 0; i < 3; i++) {
        await limited.http.get(path).set('Authorization', bearer(a.key)).expect(200);
      }
      expect429(await limited.http.get(path).set('Authorization', bearer(a.key)));
      // Another key of the same team, and the owner's own token, are not affected.
      await limited.http.get(path).set('Authorization', bearer(b.key)).expect(200);
      await limited.http.get(path).set('Authorization', bearer(owner.accessToken)).expect(200);
    });
  });

  describe('back office', () => {
    it('lists and shows keys without their hash, and revokes one as the admin', async () => {
      const w = await world();
      const key = await createKey(t, w.owner, ['team:read']);
      const [stored] = await t.db.select().from(apiKeys).where(eq(apiKeys.id, key.id));
      const [admin] = await t.db.select().from(users).where(eq(users.email, 'admin@test.com'));
      const agent = supertest.agent(t.app.getHttpServer());
      await agent
        .post('/admin/login')
        .type('form')
        .send({ email: 'admin@test.com', password: 'admin123' })
        .expect(302);

      const list = await agent
        .get(`/admin/api/resources/api_keys/actions/list?filters.teamId=${w.teamId}`)
        .expect(200);
      expect(list.body.records.map((r: { id: string }) => Number(r.id))).toEqual([key.id]);
      for (const [scope, ids] of [
        ['team:read', [key.id]],
        ['members:write', []],
      ] as const) {
        const byScope = await agent
          .get(
            `/admin/api/resources/api_keys/actions/list?filters.teamId=${w.teamId}&filters.scopes=${scope}`,
          )
          .expect(200);
        expect(byScope.body.records.map((r: { id: string }) => Number(r.id))).toEqual(ids);
      }
      const show = await agent
        .get(`/admin/api/resources/api_keys/records/${key.id}/show`)
        .expect(200);
      expect(show.body.record.params).toMatchObject({
        prefix: key.prefix,
        teamId: w.teamId,
        createdBy: w.owner.user.id,
        'scopes.0': 'team:read',
      });
      for (const body of [list.body, show.body]) {
        expect(JSON.stringify(body)).not.toContain(stored!.hash);
        expect(JSON.stringify(body)).not.toContain(key.key);
      }

      const revoked = await agent
        .post(`/admin/api/resources/api_keys/records/${key.id}/revoke`)
        .expect(200);
      expect(revoked.body.notice).toMatchObject({ type: 'success' });
      const res = await call({ method: 'get', path: `/api/v1/teams/${w.teamId}` }, key.key);
      expect(res.status).toBe(401);
      const logs = await activityRows(t.db, { teamId: w.teamId, action: 'REVOKE_API_KEY' });
      expect(logs.map((l) => l.userId)).toEqual([admin!.id]);

      // Keys are never created or edited from the panel.
      const before = await t.db.select().from(apiKeys).where(eq(apiKeys.teamId, w.teamId));
      await agent
        .post('/admin/api/resources/api_keys/actions/new')
        .type('form')
        .send({ teamId: String(w.teamId), name: 'sneaky', prefix: 'nsk_x', hash: 'x' });
      await agent
        .post(`/admin/api/resources/api_keys/records/${key.id}/edit`)
        .type('form')
        .send({ name: 'renamed', revokedAt: '' });
      expect(await t.db.select().from(apiKeys).where(eq(apiKeys.teamId, w.teamId))).toEqual(before);
    });
  });
});
