import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq, sql } from 'drizzle-orm';
import supertest from 'supertest';
import { seedDatabase } from '../../src/boot/database.js';
import type { Database } from '../../src/database/database.tokens.js';
import {
  activityLogs,
  apiKeys,
  invitations,
  sessions,
  teamMembers,
  users,
  webhookEndpoints,
} from '../../src/database/schema.js';
import { DEMO_ADMIN } from '../../src/database/seed.js';
import {
  actionApiUrl,
  actionPageUrl,
  decoratedActions,
  enableMfa,
} from '../support/admin-panel.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, signUp, signUpVerified, type SignedUp } from '../support/auth.js';
import { createOwnDatabase, type OwnDatabase } from '../support/own-database.js';

type Agent = ReturnType<typeof supertest.agent>;

/** The Host the tests address the app by; a sibling subdomain is the same site, not the same origin. */
const HOST = 'admin.example.test';
const SIBLING_SUBDOMAIN = {
  Host: HOST,
  Origin: `http://evil.${HOST}`,
  'Sec-Fetch-Site': 'same-site',
};

/**
 * Every table of the app as PostgreSQL prints its rows, and the number of queued jobs: any
 * write anywhere changes it. Not admin_sessions, which every panel request touches (its
 * expiry slides).
 */
async function snapshot(db: Database, jobsSchema: string): Promise<Record<string, string>> {
  const tables = await db.execute<{ name: string }>(
    sql`select table_name as name from information_schema.tables
        where table_schema = 'public' and table_type = 'BASE TABLE'
          and table_name not in ('admin_sessions', '__drizzle_migrations')
        order by 1`,
  );
  const result: Record<string, string> = {};
  for (const { name } of tables.rows) {
    const rows = await db.execute<{ text: string | null }>(
      sql`select string_agg(t::text, E'\n' order by t::text) as text from ${sql.identifier(name)} t`,
    );
    result[name] = rows.rows[0]?.text ?? '';
  }
  const jobs = await db.execute<{ n: string }>(
    sql`select count(*)::text as n from ${sql.identifier(jobsSchema)}.job`,
  );
  result['jobs'] = jobs.rows[0]?.n ?? '';
  return result;
}

function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys({ ...before, ...after }).filter((name) => before[name] !== after[name]);
}

describe('back office: GET and HEAD never write', () => {
  // A database of its own (seeded like a fresh start): the test compares every table before
  // and after, which other suites writing to the shared database would change.
  let database: OwnDatabase | undefined;
  let t: TestApp;
  let agent: Agent;
  let adminId: number;
  let owner: SignedUp;
  let member: SignedUp;
  /** A record of each resource for which each of its actions is offered (live targets). */
  const targets: Record<string, string> = {};

  beforeAll(async () => {
    database = await createOwnDatabase('nest_saas_safe_methods');
    await seedDatabase(database.directUrl);
    // No job workers: a webhook delivery retried in the background would change the rows.
    t = await createTestApp({
      env: {
        DATABASE_URL: database.url,
        DATABASE_DIRECT_URL: database.directUrl,
        JOBS_SCHEMA: database.jobsSchema,
        WEBHOOKS_ALLOW_PRIVATE: 'true',
        WORKERS: 'false',
      },
    });
    owner = await signUpVerified(t);
    // Unverified, with two-factor sign-in on: every user action is offered for them.
    member = await signUp(t);
    await enableMfa(t, member);
    // enableMfa verified the address (TOTP needs it); unverify it to offer resendVerification.
    await t.db.update(users).set({ emailVerifiedAt: null }).where(eq(users.id, member.user.id));
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
    await t.http
      .patch(`/api/v1/teams/${owner.team.id}`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ name: 'Safe Methods Team' })
      .expect(200);

    const [membership] = await t.db
      .select()
      .from(teamMembers)
      .where(and(eq(teamMembers.teamId, owner.team.id), eq(teamMembers.userId, member.user.id)));
    const [invitation] = await t.db
      .select()
      .from(invitations)
      .where(eq(invitations.teamId, owner.team.id));
    const [key] = await t.db.select().from(apiKeys).where(eq(apiKeys.teamId, owner.team.id));
    const [endpoint] = await t.db
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.teamId, owner.team.id));
    const [session] = await t.db.select().from(sessions).where(eq(sessions.userId, member.user.id));
    Object.assign(targets, {
      users: String(member.user.id),
      teams: String(owner.team.id),
      team_members: String(membership!.id),
      invitations: String(invitation!.id),
      api_keys: String(key!.id),
      webhook_endpoints: String(endpoint!.id),
      sessions: session!.id,
    });

    agent = supertest.agent(t.app.getHttpServer());
    await agent
      .post('/admin/login')
      .type('form')
      .send(DEMO_ADMIN)
      .expect(302)
      .expect('Location', '/admin');
    const [admin] = await t.db.select().from(users).where(eq(users.email, DEMO_ADMIN.email));
    adminId = admin!.id;
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  it('runs no action of any resource on HEAD or GET (signed in as the seeded admin): no row, no activity, no job', async () => {
    const { resources } = await decoratedActions(t);
    const writes: { action: string; tables: string[] }[] = [];
    const failures: { request: string; status: number }[] = [];
    const notRefused: string[] = [];
    const attempted: string[] = [];
    /** Actions whose GET answered the target record itself (the action was offered for it). */
    const live: string[] = [];
    let before = await snapshot(t.db, database!.jobsSchema);
    for (const resource of resources) {
      let target = targets[resource.id];
      if (target === undefined) {
        const list = await agent
          .get(`/admin/api/resources/${resource.id}/actions/list`)
          .expect(200);
        target = (list.body.records as { id: string }[])[0]?.id ?? '1';
      }
      for (const action of resource.actions) {
        const api = actionApiUrl(resource.id, action, target);
        const page = actionPageUrl(resource.id, action, target);
        const requests: [string, () => supertest.Test][] = [
          // Without Origin / Sec-Fetch-Site (curl, scripts): reaches the action itself.
          [`HEAD ${api}`, () => agent.head(api)],
          [`GET ${api}`, () => agent.get(api)],
          [`HEAD ${page}`, () => agent.head(page)],
        ];
        for (const [request, send] of requests) {
          const res = await send();
          if (res.status >= 500) failures.push({ request, status: res.status });
          const body = res.body as { record?: { params?: { id?: unknown } }; notice?: unknown };
          const shown = body.record?.params?.id;
          if (request.startsWith('GET') && String(shown) === target && !body.notice) {
            live.push(`${resource.id}.${action.name}`);
          }
        }
        // From a sibling subdomain (the same site: SameSite=Lax sends the session cookie along
        // on a fetch), as a page would send it: refused before the panel.
        const crossSite = await agent.head(api).set(SIBLING_SUBDOMAIN);
        if (crossSite.status !== 403) notRefused.push(`HEAD ${api}: ${crossSite.status}`);

        const after = await snapshot(t.db, database!.jobsSchema);
        const tables = changedTables(before, after);
        if (tables.length > 0) writes.push({ action: `${resource.id}.${action.name}`, tables });
        before = after;
        attempted.push(`${resource.id}.${action.name}`);
      }
    }
    expect({ writes, failures, notRefused }).toEqual({ writes: [], failures: [], notRefused: [] });
    // AdminJS's built-in writes and every custom record, bulk and resource action of
    // admin.resources.ts were among them.
    expect(attempted).toEqual(
      expect.arrayContaining([
        'users.new',
        'users.edit',
        'users.delete',
        'users.bulkDelete',
        'users.setPassword',
        'users.resendVerification',
        'users.revokeSessions',
        'users.disableMfa',
        'users.exportCsv',
        'teams.new',
        'teams.edit',
        'teams.delete',
        'teams.bulkDelete',
        'teams.exportCsv',
        'teams.planOverride',
        'team_members.new',
        'team_members.edit',
        'team_members.delete',
        'team_members.bulkDelete',
        'invitations.revoke',
        'api_keys.revoke',
        'activity_logs.exportCsv',
        'webhook_endpoints.disable',
      ]),
    );
    expect(live).toEqual(
      expect.arrayContaining([
        'users.edit',
        'users.delete',
        'users.setPassword',
        'users.resendVerification',
        'users.revokeSessions',
        'users.disableMfa',
        'teams.edit',
        'teams.planOverride',
        'team_members.edit',
        'team_members.delete',
        'invitations.revoke',
        'api_keys.revoke',
        'webhook_endpoints.disable',
      ]),
    );
    const activity = await t.db.select().from(activityLogs).where(eq(activityLogs.userId, adminId));
    expect(activity).toEqual([]);
    // The actions were live: the same record actions still run on POST from the panel.
    await agent
      .post(actionApiUrl('users', { name: 'revokeSessions', type: 'record' }, targets.users!))
      .set({ Host: HOST, Origin: `http://${HOST}`, 'Sec-Fetch-Site': 'same-origin' })
      .expect(200);
    const revoked = await t.db
      .select()
      .from(sessions)
      .where(and(eq(sessions.userId, member.user.id), sql`${sessions.revokedAt} is not null`));
    expect(revoked.length).toBeGreaterThan(0);
  });
});
