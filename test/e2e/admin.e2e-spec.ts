import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import argon2 from 'argon2';
import { and, desc, eq, sql } from 'drizzle-orm';
import supertest from 'supertest';
import {
  ActivityType,
  activityLogs,
  adminSessions,
  invitations,
  sessions,
  teamMembers,
  teams,
  users,
} from '../../src/database/schema.js';
import { SUBSCRIPTION_STATUSES } from '../../src/modules/billing/subscription-status.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, signIn, signUp, signUpVerified } from '../support/auth.js';

const ADMIN = { email: 'admin@test.com', password: 'admin123' };
const OWNER = { email: 'test@test.com', password: 'admin123' };

type Agent = ReturnType<typeof supertest.agent>;

/** The login page's error (a locale key): AdminJS renders the page client-side from __APP_STATE__. */
function loginError(html: string): string | null | undefined {
  const match = /window\.__APP_STATE__ = JSON\.parse\('(.*)'\);/.exec(html);
  if (!match) return undefined;
  const state = JSON.parse(match[1]!.replace(/\\"/g, '"')) as { errorMessage: string | null };
  return state.errorMessage;
}

function cookieHeader(res: { headers: Record<string, unknown> }): string | undefined {
  const raw = res.headers['set-cookie'] as string[] | string | undefined;
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return list.find((c) => c.startsWith('nest_saas_admin='));
}

/** Signs in through the AdminJS login form; returns the agent (cookie jar) and the response. */
async function adminLogin(
  t: TestApp,
  email: string,
  password: string,
  headers: Record<string, string> = {},
) {
  const agent = supertest.agent(t.app.getHttpServer());
  let req = agent.post('/admin/login').type('form').send({ email, password });
  for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
  const res = await req;
  return { agent, res };
}

async function signedInAdmin(
  t: TestApp,
  email = ADMIN.email,
  password = ADMIN.password,
): Promise<Agent> {
  const { agent, res } = await adminLogin(t, email, password);
  expect({ status: res.status, location: res.headers.location }).toEqual({
    status: 302,
    location: '/admin',
  });
  return agent;
}

/** A fresh user with the system role admin (password set with the app's argon2 settings). */
async function createAdmin(
  t: TestApp,
  password = 'admin-password-1',
): Promise<{ id: number; email: string; password: string }> {
  const email = uniqueEmail('admin');
  const passwordHash = await argon2.hash(password, {
    type: argon2.argon2id,
    memoryCost: 19_456,
    timeCost: 2,
    parallelism: 1,
  });
  const [row] = await t.db
    .insert(users)
    .values({ email, passwordHash, role: 'admin', name: 'Extra Admin' })
    .returning();
  return { id: row!.id, email, password };
}

async function isRefused(agent: Agent): Promise<boolean> {
  const res = await agent.get('/admin/api/resources/users/actions/list');
  return res.status === 302 && res.headers.location === '/admin/login';
}

describe('admin panel (AdminJS at /admin)', () => {
  let t: TestApp;
  let adminId: number;

  beforeAll(async () => {
    t = await createTestApp();
    const admin = await t.db.query.users.findFirst({ where: eq(users.email, ADMIN.email) });
    adminId = admin!.id;
  });

  afterAll(async () => {
    await t.close();
  });

  describe('sign-in', () => {
    it('sends anonymous visitors to the login page', async () => {
      const res = await t.http.get('/admin').expect(302);
      expect(res.headers.location).toBe('/admin/login');
      const page = await t.http.get('/admin/login').expect(200);
      expect(loginError(page.text)).toBeNull();
    });

    it('refuses a team owner who is not a system admin, with the same error as a wrong password', async () => {
      const owner = await adminLogin(t, OWNER.email, OWNER.password);
      const wrong = await adminLogin(t, ADMIN.email, 'not-the-password');
      for (const { agent, res } of [owner, wrong]) {
        expect(res.status).toBe(200);
        expect(cookieHeader(res)).toBeUndefined();
        expect(loginError(res.text)).toBe('invalidCredentials');
        expect(await isRefused(agent)).toBe(true);
      }
      const rows = await t.db.execute<{ n: number }>(
        sql`select count(*)::int as n from admin_sessions where sess->'adminUser'->>'email' = ${OWNER.email}`,
      );
      expect(rows.rows[0]!.n).toBe(0);
    });

    it('refuses a deleted admin account', async () => {
      const extra = await createAdmin(t);
      // Soft-delete it through the API, exactly like a user deleting their account.
      const tokens = await signIn(t, extra.email, extra.password);
      await t.http
        .delete('/api/v1/users/me')
        .set('Authorization', bearer(tokens.accessToken))
        .send({ password: extra.password })
        .expect(204);
      const { agent, res } = await adminLogin(t, extra.email, extra.password);
      expect(res.status).toBe(200);
      expect(loginError(res.text)).toBe('invalidCredentials');
      expect(await isRefused(agent)).toBe(true);
    });

    it('accepts the seeded admin, stores the session in admin_sessions, cookie httpOnly + SameSite=Lax', async () => {
      const { agent, res } = await adminLogin(t, ADMIN.email, ADMIN.password);
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe('/admin');
      const cookie = cookieHeader(res);
      expect(cookie).toBeDefined();
      expect(cookie).toMatch(/; HttpOnly/);
      expect(cookie).toMatch(/; SameSite=Lax/);
      expect(cookie).toMatch(/; Path=\/admin/);
      expect(cookie).not.toMatch(/; Secure/);

      const sid = decodeURIComponent(/^nest_saas_admin=([^;]+)/.exec(cookie!)![1]!)
        .replace(/^s:/, '')
        .split('.')[0]!;
      const [row] = await t.db.select().from(adminSessions).where(eq(adminSessions.sid, sid));
      expect(row?.sess).toMatchObject({ adminUser: { id: String(adminId), email: ADMIN.email } });
      expect(row!.expire.getTime()).toBeGreaterThan(Date.now());

      const dashboard = await agent.get('/admin').expect(200);
      expect(dashboard.text).toContain('nest-saas back office');
    });

    it('ends the panel session of an admin who is demoted', async () => {
      const extra = await createAdmin(t);
      const agent = await signedInAdmin(t, extra.email, extra.password);
      await agent.get('/admin/api/resources/users/actions/list').expect(200);
      await t.db.update(users).set({ role: 'member' }).where(eq(users.id, extra.id));
      expect(await isRefused(agent)).toBe(true);
      const rows = await t.db.execute<{ n: number }>(
        sql`select count(*)::int as n from admin_sessions where sess->'adminUser'->>'email' = ${extra.email}`,
      );
      expect(rows.rows[0]!.n).toBe(0);
    });
  });

  describe('resources', () => {
    let agent: Agent;

    beforeAll(async () => {
      agent = await signedInAdmin(t);
    });

    it('serves dashboard counts that match the database', async () => {
      const res = await agent.get('/admin/api/dashboard').expect(200);
      const counts = await t.db.execute<{ users: number; teams: number; admins: number }>(sql`
        select (select count(*)::int from users where deleted_at is null) as users,
               (select count(*)::int from teams) as teams,
               (select count(*)::int from users where deleted_at is null and role = 'admin') as admins`);
      expect(res.body).toMatchObject(counts.rows[0]!);
      expect(Object.keys(res.body).sort()).toEqual(
        [
          'activityLast24h',
          'admins',
          'charts',
          'deletedUsers',
          'payingSeats',
          'pendingInvitations',
          'subscribedTeams',
          'teams',
          'users',
        ].sort(),
      );
    });

    it('counts a team as subscribed in every live status and in no other', async () => {
      const subscribed = async () =>
        (await agent.get('/admin/api/dashboard').expect(200)).body.subscribedTeams as number;
      const before = await subscribed();
      for (const status of SUBSCRIPTION_STATUSES) {
        await t.db.insert(teams).values({ name: `Status ${status}`, subscriptionStatus: status });
      }
      await t.db.insert(teams).values({ name: 'No subscription' });
      // trialing, active, past_due, unpaid, paused: the set checkout and account deletion use.
      expect((await subscribed()) - before).toBe(5);
    });

    it('never sends passwordHash (show, list, search) nor refresh token hashes', async () => {
      const show = await agent
        .get(`/admin/api/resources/users/records/${adminId}/show`)
        .expect(200);
      expect(show.body.record.params.email).toBe(ADMIN.email);
      expect(show.body.record.params).not.toHaveProperty('passwordHash');
      expect(JSON.stringify(show.body)).not.toContain('$argon2id$');

      const list = await agent
        .get('/admin/api/resources/users/actions/list?perPage=50')
        .expect(200);
      expect(list.body.records.length).toBeGreaterThan(0);
      expect(JSON.stringify(list.body)).not.toContain('$argon2id$');
      expect(JSON.stringify(list.body)).not.toContain('passwordHash');
      expect(typeof list.body.meta.total).toBe('number');

      const search = await agent
        .get('/admin/api/resources/users/actions/search/admin@test')
        .expect(200);
      expect(
        search.body.records.map((r: { params: { email: string } }) => r.params.email),
      ).toContain(ADMIN.email);
      expect(JSON.stringify(search.body)).not.toContain('$argon2id$');

      const sessionsList = await agent
        .get('/admin/api/resources/sessions/actions/list')
        .expect(200);
      expect(JSON.stringify(sessionsList.body)).not.toContain('refreshTokenHash');
    });

    it('filters case-insensitively, sorts, paginates with a numeric total, and ignores bad filters', async () => {
      const res = await agent
        .get('/admin/api/resources/users/actions/list')
        .query({
          'filters.email': 'ADMIN@TEST',
          sortBy: 'email',
          direction: 'asc',
          perPage: 1,
          page: 1,
        })
        .expect(200);
      expect(res.body.meta.total).toBe(1);
      expect(res.body.records[0].params.email).toBe(ADMIN.email);

      const bad = await agent
        .get('/admin/api/resources/users/actions/list')
        .query({ 'filters.id': 'abc', sortBy: 'passwordHash' })
        .expect(200);
      expect(bad.body.meta.total).toBe(0);
    });

    it('shows the team name and the user email instead of bare ids on memberships', async () => {
      const owner = await t.db.query.users.findFirst({ where: eq(users.email, OWNER.email) });
      const res = await agent
        .get('/admin/api/resources/team_members/actions/list')
        .query({ 'filters.userId': String(owner!.id) })
        .expect(200);
      expect(res.body.records[0].populated.teamId.title).toBe('Test Team');
      expect(res.body.records[0].populated.userId.title).toBe(OWNER.email);
    });

    it('edits a team name, leaves Stripe fields alone, and logs ADMIN_UPDATE_TEAM against the team', async () => {
      const signed = await signUp(t);
      await t.db
        .update(teams)
        .set({ stripeCustomerId: `cus_${signed.team.id}_x` })
        .where(eq(teams.id, signed.team.id));
      const res = await agent
        .post(`/admin/api/resources/teams/records/${signed.team.id}/edit`)
        .type('form')
        .send({
          name: 'Renamed by admin',
          stripeCustomerId: 'cus_hacked',
          planName: 'Free forever',
        })
        .expect(200);
      expect(res.body.notice).toEqual({ message: 'successfullyUpdated', type: 'success' });

      const [team] = await t.db.select().from(teams).where(eq(teams.id, signed.team.id));
      expect(team).toMatchObject({
        name: 'Renamed by admin',
        stripeCustomerId: `cus_${signed.team.id}_x`,
        planName: null,
      });
      const [log] = await t.db
        .select()
        .from(activityLogs)
        .where(eq(activityLogs.teamId, signed.team.id))
        .orderBy(desc(activityLogs.id))
        .limit(1);
      expect(log).toMatchObject({ action: ActivityType.ADMIN_UPDATE_TEAM, userId: adminId });

      const api = await t.http
        .get(`/api/v1/teams/${signed.team.id}`)
        .set('Authorization', bearer(signed.accessToken))
        .expect(200);
      expect(api.body.name).toBe('Renamed by admin');
    });

    it('rejects an empty team name with a field error and changes nothing', async () => {
      const signed = await signUp(t);
      const res = await agent
        .post(`/admin/api/resources/teams/records/${signed.team.id}/edit`)
        .type('form')
        .send({ name: '   ' })
        .expect(200);
      expect(res.body.notice.type).toBe('error');
      // The API's own DTO (UpdateTeamDto) validates the form: its message, the admin's code.
      expect(res.body.record.errors.name).toEqual({
        message: 'name should not be empty',
        type: 'admin.invalid_input',
      });
      const [team] = await t.db.select().from(teams).where(eq(teams.id, signed.team.id));
      expect(team!.name).toBe(signed.team.name);
    });

    it('refuses row-level writes that bypass the admin actions (e.g. creating a team)', async () => {
      // A name no other suite uses: the database is shared with suites creating teams in parallel.
      const name = `Sneaky ${uniqueEmail('team')}`;
      const res = await agent
        .post('/admin/api/resources/teams/actions/new')
        .type('form')
        .send({ name });
      expect(res.status).not.toBe(500);
      const created = await t.db.select({ id: teams.id }).from(teams).where(eq(teams.name, name));
      expect(created).toEqual([]);
    });

    it('keeps the last owner: demoting or removing them is refused (team.last_owner)', async () => {
      const signed = await signUp(t);
      const [membership] = await t.db
        .select()
        .from(teamMembers)
        .where(and(eq(teamMembers.teamId, signed.team.id), eq(teamMembers.userId, signed.user.id)));
      const demote = await agent
        .post(`/admin/api/resources/team_members/records/${membership!.id}/edit`)
        .type('form')
        .send({ role: 'member' })
        .expect(200);
      expect(demote.body.notice).toMatchObject({ type: 'error' });
      expect(demote.body.notice.message).toContain('team.last_owner');
      const remove = await agent
        .post(`/admin/api/resources/team_members/records/${membership!.id}/delete`)
        .expect(200);
      expect(remove.body.notice.message).toContain('team.last_owner');
      const [still] = await t.db
        .select()
        .from(teamMembers)
        .where(eq(teamMembers.id, membership!.id));
      expect(still!.role).toBe('owner');
    });

    it('set password: argon2id with the API settings, every session revoked, new password works', async () => {
      const signed = await signUp(t);
      const res = await agent
        .post(`/admin/api/resources/users/records/${signed.user.id}/setPassword`)
        .type('form')
        .send({ password: 'brand-new-password' })
        .expect(200);
      expect(res.body.notice.type).toBe('success');
      expect(JSON.stringify(res.body)).not.toContain('$argon2id$');

      const [user] = await t.db.select().from(users).where(eq(users.id, signed.user.id));
      expect(user!.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      const open = await t.db
        .select()
        .from(sessions)
        .where(and(eq(sessions.userId, signed.user.id), sql`${sessions.revokedAt} is null`));
      expect(open).toEqual([]);
      await t.http
        .get('/api/v1/users/me')
        .set('Authorization', bearer(signed.accessToken))
        .expect(401);
      await t.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: signed.refreshToken })
        .expect(401);
      await signIn(t, signed.email, 'brand-new-password');
    });

    it('set password rejects a too-short password without touching the user', async () => {
      const signed = await signUp(t);
      const [before] = await t.db.select().from(users).where(eq(users.id, signed.user.id));
      const res = await agent
        .post(`/admin/api/resources/users/records/${signed.user.id}/setPassword`)
        .type('form')
        .send({ password: 'short' })
        .expect(200);
      expect(res.body.notice.type).toBe('error');
      const [after] = await t.db.select().from(users).where(eq(users.id, signed.user.id));
      expect(after!.passwordHash).toBe(before!.passwordHash);
      await t.http
        .get('/api/v1/users/me')
        .set('Authorization', bearer(signed.accessToken))
        .expect(200);
    });

    it('delete user = the API soft delete: 409 last owner of a team with members is refused', async () => {
      const owner = await signUp(t);
      const member = await signUp(t);
      await t.db
        .insert(teamMembers)
        .values({ teamId: owner.team.id, userId: member.user.id, role: 'member' });
      const res = await agent
        .post(`/admin/api/resources/users/records/${owner.user.id}/delete`)
        .expect(200);
      expect(res.body.notice.type).toBe('error');
      expect(res.body.notice.message).toContain('user.last_owner');
      const [row] = await t.db.select().from(users).where(eq(users.id, owner.user.id));
      expect(row).toMatchObject({ deletedAt: null, email: owner.email });
      await t.http
        .get('/api/v1/users/me')
        .set('Authorization', bearer(owner.accessToken))
        .expect(200);
    });

    it('delete user = the API soft delete: row kept, email freed, memberships and sessions gone, logged', async () => {
      const signed = await signUp(t);
      const res = await agent
        .post(`/admin/api/resources/users/records/${signed.user.id}/delete`)
        .expect(200);
      expect(res.body.notice).toEqual({ message: 'successfullyDeleted', type: 'success' });

      const [row] = await t.db.select().from(users).where(eq(users.id, signed.user.id));
      expect(row!.deletedAt).not.toBeNull();
      expect(row!.email).not.toBe(signed.email);
      expect(
        await t.db.select().from(teamMembers).where(eq(teamMembers.userId, signed.user.id)),
      ).toEqual([]);
      await t.http
        .get('/api/v1/users/me')
        .set('Authorization', bearer(signed.accessToken))
        .expect(401);
      const logs = await t.db
        .select({ action: activityLogs.action, userId: activityLogs.userId })
        .from(activityLogs)
        .where(eq(activityLogs.teamId, signed.team.id));
      expect(logs).toEqual(
        expect.arrayContaining([
          { action: ActivityType.DELETE_ACCOUNT, userId: signed.user.id },
          { action: ActivityType.ADMIN_DELETE_USER, userId: adminId },
        ]),
      );
      // The email is free again for a new sign-up.
      await signUp(t, { email: signed.email });
    });

    it('adds a member, changes the role, removes them; each change is logged against the team', async () => {
      const owner = await signUp(t);
      const joiner = await signUp(t);
      const added = await agent
        .post('/admin/api/resources/team_members/actions/new')
        .type('form')
        .send({ teamId: String(owner.team.id), userId: String(joiner.user.id), role: 'member' })
        .expect(200);
      expect(added.body.notice).toEqual({ message: 'successfullyCreated', type: 'success' });
      const memberId = Number(added.body.record.params.id);
      const again = await agent
        .post('/admin/api/resources/team_members/actions/new')
        .type('form')
        .send({ teamId: String(owner.team.id), userId: String(joiner.user.id), role: 'owner' })
        .expect(200);
      expect(again.body.notice.message).toContain('admin.already_member');
      const beyondInt4 = await agent
        .post('/admin/api/resources/team_members/actions/new')
        .type('form')
        .send({ teamId: '2147483648', userId: String(joiner.user.id), role: 'member' })
        .expect(200);
      expect(beyondInt4.body.record.errors.teamId).toEqual({
        message: 'must be a record id',
        type: 'admin.invalid_input',
      });

      await agent
        .post(`/admin/api/resources/team_members/records/${memberId}/edit`)
        .type('form')
        // teamId/userId in the form are ignored on edit: only the role changes.
        .send({ role: 'owner', teamId: '999999', userId: '999999' })
        .expect(200);
      const [promoted] = await t.db.select().from(teamMembers).where(eq(teamMembers.id, memberId));
      expect(promoted).toMatchObject({
        role: 'owner',
        teamId: owner.team.id,
        userId: joiner.user.id,
      });

      const removed = await agent
        .post(`/admin/api/resources/team_members/records/${memberId}/delete`)
        .expect(200);
      expect(removed.body.notice.type).toBe('success');
      expect(await t.db.select().from(teamMembers).where(eq(teamMembers.id, memberId))).toEqual([]);

      const logs = await t.db
        .select({ action: activityLogs.action, userId: activityLogs.userId })
        .from(activityLogs)
        .where(and(eq(activityLogs.teamId, owner.team.id), eq(activityLogs.userId, adminId)))
        .orderBy(activityLogs.id);
      expect(logs.map((l) => l.action)).toEqual([
        ActivityType.ADMIN_ADD_TEAM_MEMBER,
        ActivityType.ADMIN_UPDATE_TEAM_MEMBER,
        ActivityType.ADMIN_REMOVE_TEAM_MEMBER,
      ]);
    });

    it('revokes a pending invitation and logs ADMIN_REVOKE_INVITATION', async () => {
      const owner = await signUpVerified(t);
      const invited = await t.http
        .post(`/api/v1/teams/${owner.team.id}/invitations`)
        .set('Authorization', bearer(owner.accessToken))
        .send({ email: uniqueEmail('invitee'), role: 'member' })
        .expect(201);
      const id = Number(invited.body.id);
      const res = await agent
        .post(`/admin/api/resources/invitations/records/${id}/revoke`)
        .expect(200);
      expect(res.body.notice).toEqual({ message: 'Invitation revoked', type: 'success' });
      const [row] = await t.db.select().from(invitations).where(eq(invitations.id, id));
      expect(row!.status).toBe('revoked');
      const [log] = await t.db
        .select()
        .from(activityLogs)
        .where(
          and(
            eq(activityLogs.teamId, owner.team.id),
            eq(activityLogs.action, ActivityType.ADMIN_REVOKE_INVITATION),
          ),
        );
      expect(log).toMatchObject({ userId: adminId });
    });

    it('edits a user; a taken email is a field error, and an admin cannot demote themself', async () => {
      const signed = await signUp(t);
      const other = await signUp(t);
      const ok = await agent
        .post(`/admin/api/resources/users/records/${signed.user.id}/edit`)
        .type('form')
        .send({ name: 'Edited Name', email: signed.email.toUpperCase(), role: 'member' })
        .expect(200);
      expect(ok.body.notice.type).toBe('success');
      const [row] = await t.db.select().from(users).where(eq(users.id, signed.user.id));
      expect(row).toMatchObject({ name: 'Edited Name', email: signed.email });

      const taken = await agent
        .post(`/admin/api/resources/users/records/${signed.user.id}/edit`)
        .type('form')
        .send({ email: other.email })
        .expect(200);
      expect(taken.body.notice.message).toContain('user.email_taken');
      expect(taken.body.record.errors.email).toEqual({
        message: 'is already in use',
        type: 'user.email_taken',
      });

      const self = await agent
        .post(`/admin/api/resources/users/records/${adminId}/edit`)
        .type('form')
        .send({ role: 'member' })
        .expect(200);
      expect(self.body.notice.message).toContain('admin.self_demotion');
      const [me] = await t.db.select().from(users).where(eq(users.id, adminId));
      expect(me!.role).toBe('admin');
    });

    it('an address set by an admin is unverified until its owner verifies it; the same address keeps its state', async () => {
      const signed = await signUpVerified(t);
      await agent
        .post(`/admin/api/resources/users/records/${signed.user.id}/edit`)
        .type('form')
        .send({ name: 'Same Address', email: signed.email })
        .expect(200);
      const [kept] = await t.db.select().from(users).where(eq(users.id, signed.user.id));
      expect(kept!.emailVerifiedAt).toBeInstanceOf(Date);

      const email = uniqueEmail('set-by-admin');
      await agent
        .post(`/admin/api/resources/users/records/${signed.user.id}/edit`)
        .type('form')
        .send({ email })
        .expect(200);
      const [row] = await t.db.select().from(users).where(eq(users.id, signed.user.id));
      expect(row).toMatchObject({ email, emailVerifiedAt: null, pendingEmail: null });
    });

    it('bounds request bodies before parsing: 413 over 100 kB, 415 for file uploads', async () => {
      const big = await t.http
        .post('/admin/login')
        .type('form')
        .send({ email: ADMIN.email, password: 'x'.repeat(150 * 1024) })
        .expect(413);
      expect(big.body.code).toBe('request.too_large');
      await t.http
        .post('/admin/login')
        .attach('file', Buffer.alloc(2048), 'payload.bin')
        .expect(415);
      // Multipart without files (what the AdminJS forms send) still works.
      const res = await t.http
        .post('/admin/login')
        .field('email', ADMIN.email)
        .field('password', ADMIN.password)
        .expect(302);
      expect(res.headers.location).toBe('/admin');
    });

    it('signing out deletes the stored session', async () => {
      const extra = await createAdmin(t);
      const { agent: own, res } = await adminLogin(t, extra.email, extra.password);
      expect(res.status).toBe(302);
      await own.get('/admin/logout').expect(302);
      expect(await isRefused(own)).toBe(true);
      const rows = await t.db.execute<{ n: number }>(
        sql`select count(*)::int as n from admin_sessions where sess->'adminUser'->>'email' = ${extra.email}`,
      );
      expect(rows.rows[0]!.n).toBe(0);
    });

    it('activity logs are read-only', async () => {
      const [log] = await t.db.select().from(activityLogs).limit(1);
      const edit = await agent
        .post(`/admin/api/resources/activity_logs/records/${log!.id}/edit`)
        .type('form')
        .send({ action: 'TAMPERED' });
      expect(edit.status).not.toBe(500);
      await agent.post(`/admin/api/resources/activity_logs/records/${log!.id}/delete`);
      const [after] = await t.db.select().from(activityLogs).where(eq(activityLogs.id, log!.id));
      expect(after).toEqual(log);
    });
  });

  describe('behind an HTTPS proxy (TRUST_PROXY)', () => {
    let proxied: TestApp;

    beforeAll(async () => {
      proxied = await createTestApp({ env: { TRUST_PROXY: 'true' } });
    });

    afterAll(async () => {
      await proxied.close();
    });

    it('marks the cookie Secure when the proxy says https, not for plain http', async () => {
      const https = await adminLogin(proxied, ADMIN.email, ADMIN.password, {
        'X-Forwarded-Proto': 'https',
      });
      expect(https.res.status).toBe(302);
      expect(cookieHeader(https.res)).toMatch(/; Secure/);
      expect(cookieHeader(https.res)).toMatch(/; HttpOnly/);

      const http = await adminLogin(proxied, ADMIN.email, ADMIN.password, {
        'X-Forwarded-Proto': 'http',
      });
      expect(http.res.status).toBe(302);
      expect(cookieHeader(http.res)).not.toMatch(/; Secure/);
    });
  });

  describe('throttling (the API sign-in limiter)', () => {
    let limited: TestApp;

    beforeAll(async () => {
      limited = await createTestApp({
        env: { RATE_LIMIT_PER_EMAIL: '2', RATE_LIMIT_PER_IP: '1000' },
      });
    });

    afterAll(async () => {
      await limited.close();
    });

    it('refuses further attempts for an email from one IP once its failures are spent, even with the right password', async () => {
      const extra = await createAdmin(limited);
      for (let i = 0; i < 2; i++) {
        const { res } = await adminLogin(limited, extra.email, 'wrong-password');
        expect(loginError(res.text)).toBe('invalidCredentials');
      }
      const { agent, res } = await adminLogin(limited, extra.email, extra.password);
      expect(res.status).toBe(400);
      expect(loginError(res.text)).toBe('tooManyRequests');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(await isRefused(agent)).toBe(true);
    });
  });
});
