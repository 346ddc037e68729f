import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { ApiController, Filter } from 'adminjs';
import supertest from 'supertest';
import type { AdminActor } from '../../src/common/auth/actor.js';
import {
  ActivityType,
  activityLogs,
  adminSessions,
  emailVerificationTokens,
  sessions,
  teamMembers,
  userTotp,
  users,
} from '../../src/database/schema.js';
import { AdminService } from '../../src/modules/admin/admin.service.js';
import { EXPORT_ACTION } from '../../src/modules/admin/admin-export.js';
import { STAFF_READ_ACTIONS } from '../../src/modules/admin/admin-staff-access.js';
import {
  adminPanelModule,
  codeAt,
  createStaff,
  decoratedActions,
  enableMfa,
  rowText,
} from '../support/admin-panel.js';
import { createOwnDatabase, type OwnDatabase } from '../support/own-database.js';
import { createTestApp, textBody, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, signIn, signUp, signUpVerified, type SignedUp } from '../support/auth.js';

const ADMIN = { email: 'admin@test.com', password: 'admin123' };

type Agent = ReturnType<typeof supertest.agent>;

async function login(
  t: TestApp,
  email: string,
  password: string,
): Promise<{ agent: Agent; sid: string }> {
  const agent = supertest.agent(t.app.getHttpServer());
  const res = await agent.post('/admin/login').type('form').send({ email, password });
  expect({ status: res.status, location: res.headers.location }).toEqual({
    status: 302,
    location: '/admin',
  });
  const raw = res.headers['set-cookie'] as unknown as string[];
  const cookie = raw.find((c) => c.startsWith('nest_saas_admin='))!;
  const sid = decodeURIComponent(/^nest_saas_admin=([^;]+)/.exec(cookie)![1]!)
    .replace(/^s:/, '')
    .split('.')[0]!;
  return { agent, sid };
}

async function isSignedOut(agent: Agent): Promise<boolean> {
  const res = await agent.get('/admin/api/resources/users/actions/list');
  return res.status === 302 && res.headers.location === '/admin/login';
}

describe('back office: the read-only support role', () => {
  // A database of its own: the refusal tests compare whole rows (the first of each list)
  // before and after, which other suites writing to the shared database would change.
  let database: OwnDatabase | undefined;
  let t: TestApp;
  let support: { id: number; email: string; password: string };
  let supportAgent: Agent;
  let owner: SignedUp;
  let member: SignedUp;

  beforeAll(async () => {
    // No job workers: a webhook delivery retried in the background would change the rows the
    // refused writes are compared against.
    database = await createOwnDatabase('nest_saas_support');
    t = await createTestApp({
      env: {
        DATABASE_URL: database.url,
        DATABASE_DIRECT_URL: database.directUrl,
        JOBS_SCHEMA: database.jobsSchema,
        WEBHOOKS_ALLOW_PRIVATE: 'true',
        WORKERS: 'false',
      },
    });
    support = await createStaff(t, 'support');
    ({ agent: supportAgent } = await login(t, support.email, support.password));
    // Something of every kind for the write attempts to aim at.
    owner = await signUpVerified(t);
    member = await signUp(t);
    await t.db
      .insert(teamMembers)
      .values({ teamId: owner.team.id, userId: member.user.id, role: 'member' });
    await t.http
      .post(`/api/v1/teams/${owner.team.id}/invitations`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ email: uniqueEmail('invitee'), role: 'member' })
      .expect(201);
    await t.http
      .post(`/api/v1/teams/${owner.team.id}/api-keys`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ name: 'bot', scopes: ['team:read'] })
      .expect(201);
    await t.http
      .post(`/api/v1/teams/${owner.team.id}/webhooks`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ url: 'http://127.0.0.1:9/hook', events: ['team.updated'] })
      .expect(201);
    // An event and a delivery (the rename is sent to the endpoint above).
    await t.http
      .patch(`/api/v1/teams/${owner.team.id}`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ name: 'Support Fixture Team' })
      .expect(200);
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  it('signs in a support user; the session carries the real role', async () => {
    const { sid } = await login(t, support.email, support.password);
    const [row] = await t.db.select().from(adminSessions).where(eq(adminSessions.sid, sid));
    expect(row?.sess).toMatchObject({
      adminUser: { id: String(support.id), email: support.email, role: 'support' },
    });
    const dashboard = await supportAgent.get('/admin/api/dashboard').expect(200);
    expect(typeof dashboard.body.users).toBe('number');
  });

  it('asks a support user with MFA on for the code, like an admin', async () => {
    const staff = await createStaff(t, 'support');
    const tokens = await signIn(t, staff.email, staff.password);
    const secret = await enableMfa(t, {
      ...(tokens as unknown as SignedUp),
      password: staff.password,
    });
    const agent = supertest.agent(t.app.getHttpServer());
    const without = await agent
      .post('/admin/login')
      .type('form')
      .send({ email: staff.email, password: staff.password });
    expect(without.status).not.toBe(302);
    expect(await isSignedOut(agent)).toBe(true);
    const withCode = await agent
      .post('/admin/login')
      .type('form')
      .send({ email: staff.email, password: staff.password, code: codeAt(secret) });
    expect(withCode.status).toBe(302);
    await agent.get('/admin/api/resources/users/actions/list').expect(200);
  });

  it('lists, searches and shows every resource (secrets still stripped)', async () => {
    const { resources } = await decoratedActions(t);
    expect(resources.length).toBeGreaterThanOrEqual(11);
    for (const resource of resources) {
      const list = await supportAgent
        .get(`/admin/api/resources/${resource.id}/actions/list`)
        .expect(200);
      expect(typeof list.body.meta.total).toBe('number');
      const first = (list.body.records as { id: string }[])[0];
      if (first) {
        const show = await supportAgent
          .get(`/admin/api/resources/${resource.id}/records/${encodeURIComponent(first.id)}/show`)
          .expect(200);
        expect(show.body.record.id).toBe(first.id);
      }
      await supportAgent.get(`/admin/api/resources/${resource.id}/actions/search/a`).expect(200);
      // The panel's pages for it.
      await supportAgent.get(`/admin/resources/${resource.id}`).expect(200);
    }
    const users = await supportAgent
      .get('/admin/api/resources/users/actions/list?perPage=50')
      .expect(200);
    expect(JSON.stringify(users.body)).not.toContain('$argon2id$');
    const hooks = await supportAgent
      .get('/admin/api/resources/webhook_endpoints/actions/list')
      .expect(200);
    expect(JSON.stringify(hooks.body)).not.toMatch(/whsec_|"secret"/);
  });

  it('exports a filtered list as CSV (a read), and only with GET', async () => {
    const res = await supportAgent
      .get('/admin/api/resources/users/actions/exportCsv')
      .query({ 'filters.email': member.user.email })
      .buffer(true)
      .parse(textBody)
      .expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const lines = (res.body as string).trim().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(member.user.email);
    expect(res.body as string).not.toContain('$argon2id$');
    await supportAgent
      .post('/admin/api/resources/users/actions/exportCsv')
      .type('form')
      .expect(403);
  });

  it('offers support no write action on a record (the UI shows none)', async () => {
    const show = await supportAgent
      .get(`/admin/api/resources/users/records/${member.user.id}/show`)
      .expect(200);
    const offered = (show.body.record.recordActions as { name: string }[]).map((a) => a.name);
    expect(offered.filter((name) => !STAFF_READ_ACTIONS.has(name))).toEqual([]);
    const list = await supportAgent.get('/admin/api/resources/team_members/actions/list');
    const bulk = (list.body.records as { bulkActions: { name: string }[] }[]).flatMap((r) =>
      r.bulkActions.map((a) => a.name),
    );
    expect(bulk).toEqual([]);
  });

  it('refuses every write action of every resource with 403 over HTTP and changes nothing', async () => {
    const { resources } = await decoratedActions(t);
    const attempts: string[] = [];
    for (const resource of resources) {
      const list = await supportAgent
        .get(`/admin/api/resources/${resource.id}/actions/list`)
        .expect(200);
      const target = (list.body.records as { id: string }[])[0]?.id ?? '1';
      const before = await rowText(t.db, resource.table, target);
      const writes = resource.actions.filter((a) => !STAFF_READ_ACTIONS.has(a.name));
      expect(writes.length).toBeGreaterThan(0);
      for (const action of writes) {
        const id = encodeURIComponent(target);
        const urls =
          action.type === 'record'
            ? [
                `/admin/api/resources/${resource.id}/records/${id}/${action.name}`,
                `/admin/resources/${resource.id}/records/${id}/${action.name}`,
              ]
            : action.type === 'bulk'
              ? [
                  `/admin/api/resources/${resource.id}/bulk/${action.name}?recordIds=${id}`,
                  `/admin/resources/${resource.id}/bulk/${action.name}?recordIds=${id}`,
                ]
              : [
                  `/admin/api/resources/${resource.id}/actions/${action.name}`,
                  `/admin/resources/${resource.id}/actions/${action.name}`,
                ];
        const [api, page] = urls as [string, string];
        const post = await supportAgent
          .post(api)
          .type('form')
          .send({
            name: 'Changed by support',
            role: 'owner',
            password: 'support-pw-1',
            reason: 'x'.repeat(20),
          });
        const get = await supportAgent.get(api);
        const view = await supportAgent.get(page);
        for (const res of [post, get, view]) {
          expect({ url: api, status: res.status, code: res.body?.code }).toEqual({
            url: api,
            status: 403,
            code: 'admin.read_only',
          });
        }
        attempts.push(`${resource.id}.${action.name}`);
      }
      expect(await rowText(t.db, resource.table, target)).toBe(before);
    }
    // The custom actions are in the list too, not just AdminJS's built-ins.
    expect(attempts).toEqual(
      expect.arrayContaining([
        'users.new',
        'users.edit',
        'users.delete',
        'users.bulkDelete',
        'users.setPassword',
        'users.resendVerification',
        'users.revokeSessions',
        'users.disableMfa',
        'teams.planOverride',
        'team_members.new',
        'invitations.revoke',
        'api_keys.revoke',
        'webhook_endpoints.disable',
      ]),
    );
    // Every service logs its writes: none was made by the support user.
    const logs = await t.db.select().from(activityLogs).where(eq(activityLogs.userId, support.id));
    expect(logs).toEqual([]);
    // The fixtures are as they were.
    const memberships = await t.db
      .select()
      .from(teamMembers)
      .where(eq(teamMembers.teamId, owner.team.id));
    expect(memberships).toHaveLength(2);
    await t.http
      .get('/api/v1/users/me')
      .set('Authorization', bearer(member.accessToken))
      .expect(200);
  });

  it('refuses any other path and any non-GET for support (deny by default)', async () => {
    for (const path of ['/admin/api/pages/anything', '/admin/pages/anything', '/admin/refresh']) {
      const res = await supportAgent.get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
    }
    const post = await supportAgent.post('/admin/api/resources/users/actions/list').type('form');
    expect(post.status).toBe(403);
    const search = await supportAgent.post('/admin/api/resources/users/search/a').type('form');
    expect(search.status).toBe(403);
  });

  it("AdminJS's own API controller refuses support (isAccessible), without the router gate", async () => {
    const { admin, resources } = await decoratedActions(t);
    const currentAdmin = {
      id: String(support.id),
      email: support.email,
      title: 'support',
      ip: null,
      role: 'support',
      signedInAt: Date.now(),
    };
    const controller = new ApiController({ admin }, currentAdmin);
    let checked = 0;
    for (const resource of resources) {
      const adminResource = admin.findResource(resource.id);
      const [first] = await adminResource.find(new Filter({}, adminResource), { limit: 1 });
      const target = first ? String(first.id()) : undefined;
      const before = target === undefined ? undefined : await rowText(t.db, resource.table, target);
      for (const action of resource.actions) {
        const request = {
          method: 'post' as const,
          params: { resourceId: resource.id, action: action.name, recordId: target },
          payload: { name: 'Changed by support', reason: 'x'.repeat(20), password: 'pw-123456' },
          query: target === undefined ? {} : { recordIds: target },
        };
        if (action.type !== 'resource' && target === undefined) continue;
        // The export streams to Express's response itself (covered over HTTP above).
        if (action.name === EXPORT_ACTION) continue;
        checked += 1;
        const call =
          action.type === 'record'
            ? controller.recordAction(request, {})
            : action.type === 'bulk'
              ? controller.bulkAction(request, {})
              : controller.resourceAction(request, {});
        const result = (await call) as { notice?: { message: string; type: string } };
        if (STAFF_READ_ACTIONS.has(action.name)) {
          expect(result.notice?.type).not.toBe('error');
        } else {
          expect({ action: `${resource.id}.${action.name}`, notice: result.notice }).toEqual({
            action: `${resource.id}.${action.name}`,
            notice: { message: 'forbiddenError', type: 'error' },
          });
        }
      }
      if (target !== undefined) expect(await rowText(t.db, resource.table, target)).toBe(before);
    }
    expect(checked).toBeGreaterThan(40);
  });

  it('the services refuse every admin write by a support actor (403 admin.read_only)', async () => {
    const service = (await adminPanelModule(t)).get(AdminService, { strict: false });
    const actor: AdminActor = {
      kind: 'admin',
      id: support.id,
      email: support.email,
      role: 'support',
      ip: null,
    };
    const [membership] = await t.db
      .select()
      .from(teamMembers)
      .where(eq(teamMembers.userId, member.user.id));
    const calls: [string, () => Promise<unknown>][] = [
      ['updateTeam', () => service.updateTeam(actor, owner.team.id, 'Renamed by support')],
      [
        'addMember',
        () =>
          service.addMember(actor, {
            teamId: owner.team.id,
            userId: owner.user.id,
            role: 'member',
          }),
      ],
      ['updateMemberRole', () => service.updateMemberRole(actor, membership!.id, 'owner')],
      ['removeMember', () => service.removeMember(actor, membership!.id)],
      ['updateUser', () => service.updateUser(actor, member.user.id, { name: 'By support' })],
      ['setPassword', () => service.setPassword(actor, member.user.id, 'support-password')],
      ['deleteUser', () => service.deleteUser(actor, member.user.id)],
      ['resendVerification', () => service.resendVerification(actor, member.user.id)],
      ['revokeSessions', () => service.revokeSessions(actor, member.user.id)],
      ['disableMfa', () => service.disableMfa(actor, member.user.id, 'identity checked by phone')],
      [
        'setPlanOverride',
        () => service.setPlanOverride(actor, owner.team.id, '{"max_members": 1}'),
      ],
    ];
    for (const [name, call] of calls) {
      const outcome = await call().then(
        () => 'done',
        (error: unknown) => (error as { code?: string }).code,
      );
      expect({ name, outcome }).toEqual({
        name,
        outcome: expect.stringMatching(/^(admin\.read_only|team\.forbidden)$/),
      });
    }
    const [after] = await t.db.select().from(users).where(eq(users.id, member.user.id));
    expect(after).toMatchObject({ name: member.user.name, deletedAt: null });
  });

  it('an admin turned support is read-only on the next request', async () => {
    const staff = await createStaff(t, 'admin');
    const { agent } = await login(t, staff.email, staff.password);
    await agent.get(`/admin/api/resources/users/records/${member.user.id}/edit`).expect(200);
    await t.db.update(users).set({ role: 'support' }).where(eq(users.id, staff.id));
    const res = await agent.get(`/admin/api/resources/users/records/${member.user.id}/edit`);
    expect(res.status).toBe(403);
    await agent.get('/admin/api/resources/users/actions/list').expect(200);
  });
});

describe('back office: support actions for admins', () => {
  let t: TestApp;
  let agent: Agent;
  let adminId: number;

  beforeAll(async () => {
    t = await createTestApp();
    ({ agent } = await login(t, ADMIN.email, ADMIN.password));
    const [admin] = await t.db.select().from(users).where(eq(users.email, ADMIN.email));
    adminId = admin!.id;
  });

  afterAll(async () => {
    await t.close();
  });

  /** The user's teams: the signed-up one plus a second, to see one row per team. */
  async function userWithTwoTeams(): Promise<{ signed: SignedUp; teamIds: number[] }> {
    const signed = await signUp(t);
    const other = await signUp(t);
    await t.db
      .insert(teamMembers)
      .values({ teamId: other.team.id, userId: signed.user.id, role: 'member' });
    return { signed, teamIds: [signed.team.id, other.team.id].sort((a, b) => a - b) };
  }

  async function adminRows(action: ActivityType, teamIds: number[]) {
    const rows = await t.db
      .select({
        teamId: activityLogs.teamId,
        userId: activityLogs.userId,
        reason: activityLogs.reason,
      })
      .from(activityLogs)
      .where(and(eq(activityLogs.action, action), eq(activityLogs.userId, adminId)));
    return rows.filter((r) => teamIds.includes(r.teamId)).sort((a, b) => a.teamId - b.teamId);
  }

  it('resends the verification mail of an unverified email and logs it against each team', async () => {
    const { signed, teamIds } = await userWithTwoTeams();
    const tokensBefore = await t.db
      .select()
      .from(emailVerificationTokens)
      .where(eq(emailVerificationTokens.userId, signed.user.id));
    const res = await agent
      .post(`/admin/api/resources/users/records/${signed.user.id}/resendVerification`)
      .expect(200);
    expect(res.body.notice).toEqual({ message: 'Verification mail queued', type: 'success' });
    const tokensAfter = await t.db
      .select()
      .from(emailVerificationTokens)
      .where(eq(emailVerificationTokens.userId, signed.user.id));
    expect(tokensAfter.length).toBe(tokensBefore.length + 1);
    expect(tokensAfter.filter((row) => row.usedAt === null)).toHaveLength(1);
    expect(await adminRows(ActivityType.ADMIN_RESEND_VERIFICATION, teamIds)).toEqual(
      teamIds.map((teamId) => ({ teamId, userId: adminId, reason: null })),
    );
  });

  it('does not resend for a verified email (the action is not offered, nothing is sent)', async () => {
    const verified = await signUpVerified(t);
    const show = await agent
      .get(`/admin/api/resources/users/records/${verified.user.id}/show`)
      .expect(200);
    const offered = (show.body.record.recordActions as { name: string }[]).map((a) => a.name);
    expect(offered).not.toContain('resendVerification');
    const res = await agent
      .post(`/admin/api/resources/users/records/${verified.user.id}/resendVerification`)
      .expect(200);
    expect(res.body.notice).toEqual({ message: 'forbiddenError', type: 'error' });
    expect(await adminRows(ActivityType.ADMIN_RESEND_VERIFICATION, [verified.team.id])).toEqual([]);
  });

  it('revokes every session of a user: tokens stop working, logged against each team', async () => {
    const { signed, teamIds } = await userWithTwoTeams();
    const second = await signIn(t, signed.email, signed.password);
    const res = await agent
      .post(`/admin/api/resources/users/records/${signed.user.id}/revokeSessions`)
      .expect(200);
    expect(res.body.notice).toEqual({
      message: 'Every session of this user was revoked',
      type: 'success',
    });
    const open = await t.db
      .select()
      .from(sessions)
      .where(and(eq(sessions.userId, signed.user.id), isNull(sessions.revokedAt)));
    expect(open).toEqual([]);
    const reasons = await t.db
      .select({ reason: sessions.revokedReason })
      .from(sessions)
      .where(eq(sessions.userId, signed.user.id));
    expect(reasons).toEqual([{ reason: 'admin' }, { reason: 'admin' }]);
    for (const token of [signed.accessToken, second.accessToken]) {
      await t.http.get('/api/v1/users/me').set('Authorization', bearer(token)).expect(401);
    }
    await t.http
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: second.refreshToken })
      .expect(401);
    expect(await adminRows(ActivityType.ADMIN_REVOKE_SESSIONS, teamIds)).toEqual(
      teamIds.map((teamId) => ({ teamId, userId: adminId, reason: null })),
    );
  });

  it('disables MFA only with a reason (10+ characters), logged with it against each team', async () => {
    const { signed, teamIds } = await userWithTwoTeams();
    await enableMfa(t, signed);
    const url = `/admin/api/resources/users/records/${signed.user.id}/disableMfa`;

    for (const reason of [undefined, '', '   short  ']) {
      const refused = await agent
        .post(url)
        .type('form')
        .send(reason === undefined ? {} : { reason })
        .expect(200);
      expect(refused.body.notice.type).toBe('error');
      expect(refused.body.record.errors.reason.type).toBe('admin.invalid_input');
    }
    const [still] = await t.db.select().from(users).where(eq(users.id, signed.user.id));
    expect(still!.mfaEnabledAt).toBeInstanceOf(Date);
    expect(await adminRows(ActivityType.ADMIN_DISABLE_MFA, teamIds)).toEqual([]);

    const reason = 'Lost phone; identity checked by video call against the ID on file';
    const res = await agent
      .post(url)
      .type('form')
      .send({ reason: `  ${reason}  ` })
      .expect(200);
    expect(res.body.notice).toEqual({ message: 'Two-factor sign-in disabled', type: 'success' });
    const [off] = await t.db.select().from(users).where(eq(users.id, signed.user.id));
    expect(off!.mfaEnabledAt).toBeNull();
    expect(await t.db.select().from(userTotp).where(eq(userTotp.userId, signed.user.id))).toEqual(
      [],
    );
    expect(await adminRows(ActivityType.ADMIN_DISABLE_MFA, teamIds)).toEqual(
      teamIds.map((teamId) => ({ teamId, userId: adminId, reason })),
    );
    // The password alone signs in again.
    const again = await signIn(t, signed.email, signed.password);
    expect(again.accessToken).toEqual(expect.any(String));
    // Nothing left to disable: the action is not offered any more.
    const second = await agent.post(url).type('form').send({ reason }).expect(200);
    expect(second.body.notice).toEqual({ message: 'forbiddenError', type: 'error' });
  });

  it('grants support through Users → edit → role; the user then signs in read-only', async () => {
    const staff = await signUp(t);
    const res = await agent
      .post(`/admin/api/resources/users/records/${staff.user.id}/edit`)
      .type('form')
      .send({ role: 'support' })
      .expect(200);
    expect(res.body.notice.type).toBe('success');
    const [row] = await t.db.select().from(users).where(eq(users.id, staff.user.id));
    expect(row!.role).toBe('support');
    const { agent: own } = await login(t, staff.email, staff.password);
    await own.get('/admin/api/resources/teams/actions/list').expect(200);
    const refused = await own
      .post(`/admin/api/resources/teams/records/${staff.team.id}/edit`)
      .type('form')
      .send({ name: 'Renamed by new support' });
    expect(refused.status).toBe(403);
  });

  it('lists the new activity types in the activity DTO enum of the OpenAPI document', async () => {
    const doc = await t.http.get('/docs-json');
    const names = JSON.stringify(doc.body);
    for (const action of [
      ActivityType.ADMIN_RESEND_VERIFICATION,
      ActivityType.ADMIN_REVOKE_SESSIONS,
      ActivityType.ADMIN_DISABLE_MFA,
    ]) {
      expect(names).toContain(action);
    }
  });
});

describe('back office: idle timeout (ADMIN_SESSION_IDLE_MINUTES)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { ADMIN_SESSION_IDLE_MINUTES: '2' } });
  });

  afterAll(async () => {
    await t.close();
  });

  async function expiresInSeconds(sid: string): Promise<number> {
    const [row] = await t.db.select().from(adminSessions).where(eq(adminSessions.sid, sid));
    return (row!.expire.getTime() - Date.now()) / 1000;
  }

  it('stores the session for the idle time only, and every request extends it', async () => {
    const { agent, sid } = await login(t, ADMIN.email, ADMIN.password);
    const first = await expiresInSeconds(sid);
    expect(first).toBeGreaterThan(100);
    expect(first).toBeLessThanOrEqual(121);
    // Nearly idle for two minutes: the next request moves the expiry two minutes ahead.
    await t.db
      .update(adminSessions)
      .set({ expire: sql`now() + interval '5 seconds'` })
      .where(eq(adminSessions.sid, sid));
    expect(await expiresInSeconds(sid)).toBeLessThan(10);
    await agent.get('/admin/api/resources/users/actions/list').expect(200);
    expect(await expiresInSeconds(sid)).toBeGreaterThan(100);
  });

  it('ends a session that was idle longer than that', async () => {
    const { agent, sid } = await login(t, ADMIN.email, ADMIN.password);
    await agent.get('/admin/api/dashboard').expect(200);
    await t.db
      .update(adminSessions)
      .set({ expire: sql`now() - interval '1 second'` })
      .where(eq(adminSessions.sid, sid));
    expect(await isSignedOut(agent)).toBe(true);
  });

  it('ends a session 8 hours after sign-in, however active', async () => {
    const { agent, sid } = await login(t, ADMIN.email, ADMIN.password);
    await agent.get('/admin/api/dashboard').expect(200);
    const longAgo = Date.now() - 8 * 60 * 60 * 1000 - 60_000;
    await t.db.execute(
      sql`update admin_sessions set sess = jsonb_set(sess::jsonb, '{adminUser,signedInAt}', ${String(longAgo)}::jsonb)::json where sid = ${sid}`,
    );
    expect(await isSignedOut(agent)).toBe(true);
    expect(await t.db.select().from(adminSessions).where(eq(adminSessions.sid, sid))).toEqual([]);
  });

  it('refuses a bad ADMIN_SESSION_IDLE_MINUTES at boot', async () => {
    const { loadConfig } = await import('../../src/config/app-config.js');
    for (const value of ['0', '481', 'abc']) {
      expect(() => loadConfig({ ...process.env, ADMIN_SESSION_IDLE_MINUTES: value })).toThrow(
        /ADMIN_SESSION_IDLE_MINUTES/,
      );
    }
    expect(
      loadConfig({ ...process.env, ADMIN_SESSION_IDLE_MINUTES: undefined }).adminSessionIdleMinutes,
    ).toBe(30);
  });
});
