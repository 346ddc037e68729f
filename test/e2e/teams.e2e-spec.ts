import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, asc, eq } from 'drizzle-orm';
import {
  activityLogs,
  invitations,
  teamMembers,
  teams,
  type TeamRole,
} from '../../src/database/schema.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, signUp, type SignedUp } from '../support/auth.js';

interface World {
  teamId: number;
  owner: SignedUp;
  member: SignedUp;
  ownerMemberId: number;
  memberMemberId: number;
  invitationId: number;
}

describe('teams (e2e)', () => {
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

  async function membershipId(teamId: number, userId: number): Promise<number> {
    const [row] = await t.db
      .select({ id: teamMembers.id })
      .from(teamMembers)
      .where(and(eq(teamMembers.teamId, teamId), eq(teamMembers.userId, userId)));
    return row!.id;
  }

  /** A team (the owner's sign-up team) with one plain member and one pending invitation. */
  async function world(): Promise<World> {
    const owner = await signUp(t, { name: 'Owner' });
    const member = await signUp(t, { name: 'Member' });
    const teamId = owner.team.id;
    const memberMemberId = await addMember(teamId, member.user.id, 'member');
    const [invitation] = await t.db
      .insert(invitations)
      .values({ teamId, email: uniqueEmail('pending'), role: 'member', invitedBy: owner.user.id })
      .returning();
    return {
      teamId,
      owner,
      member,
      ownerMemberId: await membershipId(teamId, owner.user.id),
      memberMemberId,
      invitationId: invitation!.id,
    };
  }

  /** Everything a team's routes could change, to prove a refused request changed nothing. */
  async function snapshot(teamId: number) {
    return {
      team: await t.db.select().from(teams).where(eq(teams.id, teamId)),
      members: await t.db
        .select()
        .from(teamMembers)
        .where(eq(teamMembers.teamId, teamId))
        .orderBy(asc(teamMembers.id)),
      invitations: await t.db
        .select()
        .from(invitations)
        .where(eq(invitations.teamId, teamId))
        .orderBy(asc(invitations.id)),
      activity: await t.db
        .select()
        .from(activityLogs)
        .where(eq(activityLogs.teamId, teamId))
        .orderBy(asc(activityLogs.id)),
    };
  }

  /** Every route under /teams/:teamId, with a valid body, for the given child ids. */
  function teamRoutes(teamId: number, memberId: number, invitationId: number) {
    const base = `/api/v1/teams/${teamId}`;
    return [
      { method: 'get', path: base, ownerOnly: false },
      { method: 'patch', path: base, body: { name: 'Hijacked' }, ownerOnly: true },
      {
        method: 'patch',
        path: `${base}/members/${memberId}`,
        body: { role: 'owner' },
        ownerOnly: true,
      },
      { method: 'delete', path: `${base}/members/${memberId}`, ownerOnly: true },
      { method: 'get', path: `${base}/activity`, ownerOnly: true },
      { method: 'get', path: `${base}/invitations`, ownerOnly: true },
      {
        method: 'post',
        path: `${base}/invitations`,
        body: { email: uniqueEmail('x'), role: 'member' },
        ownerOnly: true,
      },
      { method: 'delete', path: `${base}/invitations/${invitationId}`, ownerOnly: true },
    ] as const;
  }

  function call(
    route: { method: 'get' | 'post' | 'patch' | 'delete'; path: string; body?: object },
    token: string,
  ) {
    const req = t.http[route.method](route.path).set('Authorization', bearer(token));
    return route.body === undefined ? req : req.send(route.body);
  }

  describe('GET /teams and POST /teams', () => {
    it('lists the teams I belong to with my role', async () => {
      const a = await world();
      const other = await signUp(t);
      await addMember(other.team.id, a.member.user.id, 'owner');

      const res = await t.http
        .get('/api/v1/teams')
        .set('Authorization', bearer(a.member.accessToken));
      expect(res.status).toBe(200);
      const items = res.body.items as { id: number; role: string; memberId: number }[];
      expect(items.map((i) => [i.id, i.role]).sort()).toEqual(
        [
          [a.member.team.id, 'owner'],
          [a.teamId, 'member'],
          [other.team.id, 'owner'],
        ].sort(),
      );
      expect(items.find((i) => i.id === a.teamId)?.memberId).toBe(a.memberMemberId);
      expect(res.body.nextCursor).toBeNull();

      const page1 = await t.http
        .get('/api/v1/teams?limit=2')
        .set('Authorization', bearer(a.member.accessToken));
      expect(page1.body.items).toHaveLength(2);
      const page2 = await t.http
        .get(`/api/v1/teams?limit=2&cursor=${page1.body.nextCursor as string}`)
        .set('Authorization', bearer(a.member.accessToken));
      expect(page2.body).toMatchObject({ nextCursor: null });
      expect(
        [...page1.body.items, ...page2.body.items].map((i: { id: number }) => i.id).sort(),
      ).toEqual(items.map((i) => i.id).sort());
    });

    it('creates a team with me as owner and logs CREATE_TEAM with user, team and ip', async () => {
      const me = await signUp(t);
      const res = await t.http
        .post('/api/v1/teams')
        .set('Authorization', bearer(me.accessToken))
        .send({ name: '  Rocket  ' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        name: 'Rocket',
        stripeCustomerId: null,
        subscriptionStatus: null,
        teamMembers: [
          { userId: me.user.id, role: 'owner', user: { id: me.user.id, email: me.email } },
        ],
      });
      const teamId = res.body.id as number;
      const members = await t.db.select().from(teamMembers).where(eq(teamMembers.teamId, teamId));
      expect(members.map((m) => [m.userId, m.role])).toEqual([[me.user.id, 'owner']]);
      const logs = await t.db.select().from(activityLogs).where(eq(activityLogs.teamId, teamId));
      expect(logs.map((l) => [l.action, l.userId, l.ipAddress])).toEqual([
        ['CREATE_TEAM', me.user.id, '127.0.0.1'],
      ]);
    });

    it('rejects an empty name, unknown fields and missing tokens', async () => {
      const me = await signUp(t);
      const auth = bearer(me.accessToken);
      for (const body of [
        { name: '' },
        { name: 'x'.repeat(101) },
        {},
        { name: 'A', planName: 'Pro' },
      ]) {
        const res = await t.http.post('/api/v1/teams').set('Authorization', auth).send(body);
        expect({ body, status: res.status, code: res.body.code }).toEqual({
          body,
          status: 400,
          code: 'request.invalid',
        });
      }
      expect((await t.http.get('/api/v1/teams')).status).toBe(401);
      expect((await t.http.post('/api/v1/teams').send({ name: 'x' })).status).toBe(401);
    });
  });

  describe('GET /teams/:teamId', () => {
    it('returns TeamDataWithMembers with public user fields only', async () => {
      const a = await world();
      const res = await t.http
        .get(`/api/v1/teams/${a.teamId}`)
        .set('Authorization', bearer(a.member.accessToken));
      expect(res.status).toBe(200);
      expect(Object.keys(res.body as object).sort()).toEqual(
        [
          'createdAt',
          'id',
          'name',
          // API.md v1.2: the plan view without usage.
          'plan',
          'planName',
          'stripeCustomerId',
          'stripeProductId',
          'stripeSubscriptionId',
          'subscriptionStatus',
          'teamMembers',
          'updatedAt',
        ].sort(),
      );
      expect(Object.keys(res.body.plan as object).sort()).toEqual(
        [
          'cancelAtPeriodEnd',
          'currentPeriodEnd',
          'features',
          'limits',
          'perSeat',
          'plan',
          'seats',
          'status',
        ].sort(),
      );
      expect(res.body.teamMembers).toEqual([
        {
          id: a.ownerMemberId,
          teamId: a.teamId,
          userId: a.owner.user.id,
          role: 'owner',
          joinedAt: expect.any(String),
          user: { id: a.owner.user.id, name: 'Owner', email: a.owner.email },
        },
        {
          id: a.memberMemberId,
          teamId: a.teamId,
          userId: a.member.user.id,
          role: 'member',
          joinedAt: expect.any(String),
          user: { id: a.member.user.id, name: 'Member', email: a.member.email },
        },
      ]);
      expect(JSON.stringify(res.body)).not.toMatch(/password|hash|secret/i);
    });
  });

  describe('role enforcement', () => {
    let a: World;
    let b: World;

    beforeAll(async () => {
      a = await world();
      b = await world();
    });

    it('answers 403 team.forbidden to a member on every owner-only route, changing nothing', async () => {
      const before = await snapshot(a.teamId);
      for (const route of teamRoutes(a.teamId, a.ownerMemberId, a.invitationId)) {
        if (!route.ownerOnly) continue;
        const res = await call(route, a.member.accessToken);
        expect({
          route: `${route.method} ${route.path}`,
          status: res.status,
          code: res.body.code,
        }).toEqual({
          route: `${route.method} ${route.path}`,
          status: 403,
          code: 'team.forbidden',
        });
      }
      expect(await snapshot(a.teamId)).toEqual(before);
    });

    it("answers 404 team.not_found on every route of team B to team A's owner and member; B is unchanged", async () => {
      const before = await snapshot(b.teamId);
      for (const token of [a.owner.accessToken, a.member.accessToken]) {
        for (const route of teamRoutes(b.teamId, b.memberMemberId, b.invitationId)) {
          const res = await call(route, token);
          expect({
            route: `${route.method} ${route.path}`,
            status: res.status,
            body: res.body,
          }).toEqual({
            route: `${route.method} ${route.path}`,
            status: 404,
            body: {
              statusCode: 404,
              error: 'Not Found',
              code: 'team.not_found',
              message: 'Team not found',
            },
          });
        }
      }
      expect(await snapshot(b.teamId)).toEqual(before);
    });

    it('answers a team that does not exist exactly like a team I am not in', async () => {
      const missing = await t.http
        .get('/api/v1/teams/2147483000')
        .set('Authorization', bearer(a.owner.accessToken));
      const foreign = await t.http
        .get(`/api/v1/teams/${b.teamId}`)
        .set('Authorization', bearer(a.owner.accessToken));
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual(foreign.body);
    });

    it("cannot reach team B's members or invitations through team A's URL (404), B unchanged", async () => {
      const before = await snapshot(b.teamId);
      const auth = bearer(a.owner.accessToken);
      const base = `/api/v1/teams/${a.teamId}`;
      const patch = await t.http
        .patch(`${base}/members/${b.memberMemberId}`)
        .set('Authorization', auth)
        .send({ role: 'owner' });
      expect([patch.status, patch.body.code]).toEqual([404, 'team.member_not_found']);
      const del = await t.http
        .delete(`${base}/members/${b.ownerMemberId}`)
        .set('Authorization', auth);
      expect([del.status, del.body.code]).toEqual([404, 'team.member_not_found']);
      const revoke = await t.http
        .delete(`${base}/invitations/${b.invitationId}`)
        .set('Authorization', auth);
      expect([revoke.status, revoke.body.code]).toEqual([404, 'invitation.not_found']);
      expect(await snapshot(b.teamId)).toEqual(before);
    });

    it.each(['abc', '0', '-1', '1.5', '99999999999'])(
      'answers 400 (never 500) for the path id %j',
      async (bad) => {
        const auth = bearer(a.owner.accessToken);
        const team = await t.http.get(`/api/v1/teams/${bad}`).set('Authorization', auth);
        expect([team.status, team.body.code, team.body.details]).toEqual([
          400,
          'request.invalid',
          [{ field: 'teamId', message: 'teamId must be a positive integer id' }],
        ]);
        const member = await t.http
          .delete(`/api/v1/teams/${a.teamId}/members/${bad}`)
          .set('Authorization', auth);
        expect([member.status, member.body.details?.[0]?.field]).toEqual([400, 'memberId']);
        const invitation = await t.http
          .delete(`/api/v1/teams/${a.teamId}/invitations/${bad}`)
          .set('Authorization', auth);
        expect([invitation.status, invitation.body.details?.[0]?.field]).toEqual([
          400,
          'invitationId',
        ]);
      },
    );
  });

  describe('PATCH /teams/:teamId', () => {
    it('renames the team for an owner', async () => {
      const a = await world();
      const res = await t.http
        .patch(`/api/v1/teams/${a.teamId}`)
        .set('Authorization', bearer(a.owner.accessToken))
        .send({ name: 'Renamed' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: a.teamId, name: 'Renamed' });
      const [row] = await t.db.select().from(teams).where(eq(teams.id, a.teamId));
      expect(row?.name).toBe('Renamed');
    });

    it.each([
      { stripeCustomerId: 'cus_evil' },
      { stripeSubscriptionId: 'sub_evil' },
      { stripeProductId: 'prod_evil' },
      { planName: 'Enterprise' },
      { subscriptionStatus: 'active' },
      { id: 1 },
    ])('never writes billing fields: %j is a 400 and nothing changes', async (extra) => {
      const a = await world();
      const before = await snapshot(a.teamId);
      const res = await t.http
        .patch(`/api/v1/teams/${a.teamId}`)
        .set('Authorization', bearer(a.owner.accessToken))
        .send({ name: 'Ok', ...extra });
      expect([res.status, res.body.code]).toEqual([400, 'request.invalid']);
      expect(await snapshot(a.teamId)).toEqual(before);
    });
  });

  describe('members', () => {
    it('an owner promotes and demotes; the last owner cannot be demoted (409)', async () => {
      const a = await world();
      const auth = bearer(a.owner.accessToken);
      const promote = await t.http
        .patch(`/api/v1/teams/${a.teamId}/members/${a.memberMemberId}`)
        .set('Authorization', auth)
        .send({ role: 'owner' });
      expect(promote.status).toBe(200);
      expect(promote.body).toEqual({
        id: a.memberMemberId,
        teamId: a.teamId,
        userId: a.member.user.id,
        role: 'owner',
        joinedAt: expect.any(String),
        user: { id: a.member.user.id, name: 'Member', email: a.member.email },
      });
      const demoteSelf = await t.http
        .patch(`/api/v1/teams/${a.teamId}/members/${a.ownerMemberId}`)
        .set('Authorization', auth)
        .send({ role: 'member' });
      expect([demoteSelf.status, demoteSelf.body.role]).toEqual([200, 'member']);
      // Now the former member is the only owner. (Who may change whose role, and the last-owner
      // permutations: test/integration/team-rules.int-spec.ts; here the HTTP contract.)
      const last = await t.http
        .patch(`/api/v1/teams/${a.teamId}/members/${a.memberMemberId}`)
        .set('Authorization', bearer(a.member.accessToken))
        .send({ role: 'member' });
      expect([last.status, last.body.code]).toEqual([409, 'team.last_owner']);
      const roles = await t.db
        .select({ id: teamMembers.id, role: teamMembers.role })
        .from(teamMembers)
        .where(eq(teamMembers.teamId, a.teamId))
        .orderBy(asc(teamMembers.id));
      expect(roles).toEqual([
        { id: a.ownerMemberId, role: 'member' },
        { id: a.memberMemberId, role: 'owner' },
      ]);
      const bad = await t.http
        .patch(`/api/v1/teams/${a.teamId}/members/${a.memberMemberId}`)
        .set('Authorization', bearer(a.member.accessToken))
        .send({ role: 'admin' });
      expect([bad.status, bad.body.code]).toEqual([400, 'request.invalid']);
    });

    it('a member leaves; REMOVE_TEAM_MEMBER is logged with user, team and ip', async () => {
      const a = await world();
      const res = await t.http
        .delete(`/api/v1/teams/${a.teamId}/members/${a.memberMemberId}`)
        .set('Authorization', bearer(a.member.accessToken));
      expect(res.status).toBe(204);
      const members = await t.db.select().from(teamMembers).where(eq(teamMembers.teamId, a.teamId));
      expect(members.map((m) => m.userId)).toEqual([a.owner.user.id]);
      const logs = await t.db
        .select()
        .from(activityLogs)
        .where(
          and(eq(activityLogs.teamId, a.teamId), eq(activityLogs.action, 'REMOVE_TEAM_MEMBER')),
        );
      expect(logs.map((l) => [l.userId, l.ipAddress])).toEqual([[a.member.user.id, '127.0.0.1']]);
      const gone = await t.http
        .get(`/api/v1/teams/${a.teamId}`)
        .set('Authorization', bearer(a.member.accessToken));
      expect([gone.status, gone.body.code]).toEqual([404, 'team.not_found']);
    });

    it('an owner removes a member; the last owner cannot leave (409)', async () => {
      const a = await world();
      const auth = bearer(a.owner.accessToken);
      const res = await t.http
        .delete(`/api/v1/teams/${a.teamId}/members/${a.memberMemberId}`)
        .set('Authorization', auth);
      expect(res.status).toBe(204);
      const logs = await t.db
        .select()
        .from(activityLogs)
        .where(
          and(eq(activityLogs.teamId, a.teamId), eq(activityLogs.action, 'REMOVE_TEAM_MEMBER')),
        );
      expect(logs.map((l) => l.userId)).toEqual([a.owner.user.id]);
      const leave = await t.http
        .delete(`/api/v1/teams/${a.teamId}/members/${a.ownerMemberId}`)
        .set('Authorization', auth);
      expect([leave.status, leave.body.code]).toEqual([409, 'team.last_owner']);
      const again = await t.http
        .delete(`/api/v1/teams/${a.teamId}/members/${a.memberMemberId}`)
        .set('Authorization', auth);
      expect([again.status, again.body.code]).toEqual([404, 'team.member_not_found']);
      const owners = await t.db.select().from(teamMembers).where(eq(teamMembers.teamId, a.teamId));
      expect(owners.map((m) => [m.userId, m.role])).toEqual([[a.owner.user.id, 'owner']]);
    });

    it('concurrent self-demotions of every owner leave exactly one owner', async () => {
      const a = await world();
      const owners = [a.owner, ...(await Promise.all([1, 2, 3, 4].map(() => signUp(t))))];
      const ids = [a.ownerMemberId];
      for (const o of owners.slice(1)) ids.push(await addMember(a.teamId, o.user.id, 'owner'));
      const results = await Promise.all(
        owners.map((o, i) =>
          t.http
            .patch(`/api/v1/teams/${a.teamId}/members/${ids[i]!}`)
            .set('Authorization', bearer(o.accessToken))
            .send({ role: 'member' }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 409]);
      const rows = await t.db
        .select()
        .from(teamMembers)
        .where(and(eq(teamMembers.teamId, a.teamId), eq(teamMembers.role, 'owner')));
      expect(rows).toHaveLength(1);
    });

    it('concurrent removals (owners removing each other and leaving) never remove the last owner', async () => {
      const a = await world();
      const second = await signUp(t);
      const secondId = await addMember(a.teamId, second.user.id, 'owner');
      const requests = [
        [a.owner, secondId],
        [second, a.ownerMemberId],
        [a.owner, a.ownerMemberId],
        [second, secondId],
      ] as const;
      const results = await Promise.all(
        requests.map(([who, target]) =>
          t.http
            .delete(`/api/v1/teams/${a.teamId}/members/${target}`)
            .set('Authorization', bearer(who.accessToken)),
        ),
      );
      expect(results.filter((r) => r.status === 204)).toHaveLength(1);
      for (const r of results.filter((x) => x.status !== 204)) {
        expect([404, 409]).toContain(r.status);
      }
      const owners = await t.db
        .select()
        .from(teamMembers)
        .where(and(eq(teamMembers.teamId, a.teamId), eq(teamMembers.role, 'owner')));
      expect(owners).toHaveLength(1);
    });
  });

  describe('GET /teams/:teamId/activity', () => {
    it('lists the team log newest first with filters and cursor pagination', async () => {
      const a = await world();
      const auth = bearer(a.owner.accessToken);
      // Membership changes give the team a few more rows (REMOVE_TEAM_MEMBER by the member).
      const extra = await signUp(t);
      const extraId = await addMember(a.teamId, extra.user.id, 'member');
      await t.http
        .delete(`/api/v1/teams/${a.teamId}/members/${extraId}`)
        .set('Authorization', bearer(extra.accessToken))
        .expect(204);
      await t.http
        .delete(`/api/v1/teams/${a.teamId}/members/${a.memberMemberId}`)
        .set('Authorization', auth)
        .expect(204);

      const all = await t.db.select().from(activityLogs).where(eq(activityLogs.teamId, a.teamId));
      const expected = [...all]
        .sort((x, y) => y.timestamp.getTime() - x.timestamp.getTime() || y.id - x.id)
        .map((r) => r.id);
      expect(expected.length).toBeGreaterThanOrEqual(4);

      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const res = await t.http
          .get(`/api/v1/teams/${a.teamId}/activity?limit=1${cursor ? `&cursor=${cursor}` : ''}`)
          .set('Authorization', auth);
        expect(res.status).toBe(200);
        seen.push(...(res.body.items as { id: number }[]).map((i) => i.id));
        cursor = res.body.nextCursor as string | null;
      } while (cursor !== null && seen.length <= expected.length);
      expect(seen).toEqual(expected);

      const byAction = await t.http
        .get(`/api/v1/teams/${a.teamId}/activity?action=REMOVE_TEAM_MEMBER`)
        .set('Authorization', auth);
      expect(
        (byAction.body.items as { action: string; userId: number; user: { email: string } }[]).map(
          (i) => [i.action, i.userId, i.user.email],
        ),
      ).toEqual([
        ['REMOVE_TEAM_MEMBER', a.owner.user.id, a.owner.email],
        ['REMOVE_TEAM_MEMBER', extra.user.id, extra.email],
      ]);
      const byUser = await t.http
        .get(`/api/v1/teams/${a.teamId}/activity?userId=${extra.user.id}`)
        .set('Authorization', auth);
      expect((byUser.body.items as { userId: number }[]).map((i) => i.userId)).toEqual([
        extra.user.id,
      ]);
      expect(byUser.body.items[0]).toEqual({
        id: expect.any(Number),
        action: 'REMOVE_TEAM_MEMBER',
        timestamp: expect.any(String),
        ipAddress: '127.0.0.1',
        userId: extra.user.id,
        user: { id: extra.user.id, name: null, email: extra.email },
      });

      const future = await t.http
        .get(
          `/api/v1/teams/${a.teamId}/activity?from=${new Date(Date.now() + 60_000).toISOString()}`,
        )
        .set('Authorization', auth);
      expect(future.body).toEqual({ items: [], nextCursor: null });
      const past = await t.http
        .get(
          `/api/v1/teams/${a.teamId}/activity?to=${new Date(Date.now() + 60_000).toISOString()}&from=2000-01-01T00:00:00Z`,
        )
        .set('Authorization', auth);
      expect((past.body.items as unknown[]).length).toBe(expected.length);
      const none = await t.http
        .get(`/api/v1/teams/${a.teamId}/activity?to=2000-01-01T00:00:00Z`)
        .set('Authorization', auth);
      expect(none.body.items).toEqual([]);

      for (const bad of [
        'action=NOPE',
        'userId=abc',
        'from=yesterday',
        'limit=0',
        'cursor=%%%',
        'x=1',
      ]) {
        const res = await t.http
          .get(`/api/v1/teams/${a.teamId}/activity?${bad}`)
          .set('Authorization', auth);
        expect({ bad, status: res.status }).toEqual({ bad, status: 400 });
      }
    });
  });
});
