import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq } from 'drizzle-orm';
import supertest from 'supertest';
import { activityLogs, teamDomains, users } from '../../src/database/schema.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, signUpVerified, type SignedUp } from '../support/auth.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { createStaff } from '../support/admin-panel.js';

const ADMIN = { email: 'admin@test.com', password: 'admin123' };

interface Domain {
  id: number;
  domain: string;
  txtName: string;
  txtValue: string;
}

describe("back office: a team's domains", () => {
  let t: TestApp;
  let dns: TestDnsServer;
  let agent: ReturnType<typeof supertest.agent>;
  let adminId: number;
  let owner: SignedUp;
  let verified: Domain;
  let pending: Domain;

  async function add(domain: string): Promise<Domain> {
    const res = await t.http
      .post(`/api/v1/teams/${owner.team.id}/domains`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ domain });
    expect(res.status).toBe(201);
    return res.body as Domain;
  }

  beforeAll(async () => {
    dns = await startDnsServer();
    t = await createTestApp({ env: { DNS_SERVERS: dns.address, DNS_TIMEOUT_MS: '200' } });
    agent = supertest.agent(t.app.getHttpServer());
    const login = await agent.post('/admin/login').type('form').send(ADMIN);
    expect(login.status).toBe(302);
    const [admin] = await t.db.select().from(users).where(eq(users.email, ADMIN.email));
    adminId = admin!.id;

    owner = await signUpVerified(t);
    const suffix = `${owner.team.id}-${Date.now().toString(36)}`;
    verified = await add(`verified-${suffix}.example`);
    pending = await add(`pending-${suffix}.example`);
    dns.setTxt(verified.txtName, verified.txtValue);
    await t.http
      .post(`/api/v1/teams/${owner.team.id}/domains/${verified.id}/verify`)
      .set('Authorization', bearer(owner.accessToken))
      .expect(200);
  });

  afterAll(async () => {
    await t.close();
    await dns.close();
  });

  it("lists the team's domains on its page, verified and pending", async () => {
    const show = await agent
      .get(`/admin/api/resources/teams/records/${owner.team.id}/show`)
      .expect(200);
    const lines = String(show.body.record.params.domains).split('\n').sort();
    // Sorted: 'pending-…' before 'verified-…'.
    expect(lines).toEqual([
      `${pending.domain} — pending`,
      expect.stringMatching(
        new RegExp(`^${verified.domain.replace(/\./g, '\\.')} — verified \\d{4}-\\d{2}-\\d{2}$`),
      ),
    ]);
  });

  it('lists and shows domains in their own resource, filtered by team', async () => {
    const list = await agent
      .get(`/admin/api/resources/team_domains/actions/list?filters.teamId=${owner.team.id}`)
      .expect(200);
    const names = (list.body.records as { params: { domain: string } }[])
      .map((r) => r.params.domain)
      .sort();
    expect(names).toEqual([pending.domain, verified.domain].sort());
    const show = await agent
      .get(`/admin/api/resources/team_domains/records/${pending.id}/show`)
      .expect(200);
    expect(show.body.record.params).toMatchObject({
      domain: pending.domain,
      txtValue: pending.txtValue,
      teamId: owner.team.id,
    });
  });

  it('support staff may read the team page but not remove a domain', async () => {
    const staff = await createStaff(t, 'support');
    const support = supertest.agent(t.app.getHttpServer());
    await support
      .post('/admin/login')
      .type('form')
      .send({ email: staff.email, password: staff.password })
      .expect(302);
    const show = await support
      .get(`/admin/api/resources/teams/records/${owner.team.id}/show`)
      .expect(200);
    expect(String(show.body.record.params.domains)).toContain(pending.domain);
    const res = await support.post(
      `/admin/api/resources/team_domains/records/${pending.id}/remove`,
    );
    expect(res.status).not.toBe(200);
    const rows = await t.db.select().from(teamDomains).where(eq(teamDomains.id, pending.id));
    expect(rows).toHaveLength(1);
  });

  it('an admin removes a domain through the service: REMOVE_DOMAIN by the admin', async () => {
    const res = await agent
      .post(`/admin/api/resources/team_domains/records/${verified.id}/remove`)
      .expect(200);
    expect(res.body.notice).toMatchObject({ type: 'success', message: 'Domain removed' });
    const rows = await t.db.select().from(teamDomains).where(eq(teamDomains.id, verified.id));
    expect(rows).toHaveLength(0);
    const logged = await t.db
      .select()
      .from(activityLogs)
      .where(and(eq(activityLogs.teamId, owner.team.id), eq(activityLogs.action, 'REMOVE_DOMAIN')));
    expect(logged.map((r) => r.userId)).toEqual([adminId]);
  });
});
