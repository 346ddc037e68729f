import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, desc, eq } from 'drizzle-orm';
import supertest from 'supertest';
import { ActivityType, activityLogs, teams } from '../../src/database/schema.js';
import { createStaff } from '../support/admin-panel.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, signUpVerified, type SignedUp } from '../support/auth.js';

type Agent = ReturnType<typeof supertest.agent>;

async function login(t: TestApp, email: string, password: string): Promise<Agent> {
  const agent = supertest.agent(t.app.getHttpServer());
  const res = await agent.post('/admin/login').type('form').send({ email, password });
  expect({ status: res.status, location: res.headers.location }).toEqual({
    status: 302,
    location: '/admin',
  });
  return agent;
}

describe('back office: a team’s plan, the plan override and paying seats', () => {
  let t: TestApp;
  let admin: { id: number; email: string; password: string };
  let adminAgent: Agent;
  let supportAgent: Agent;

  beforeAll(async () => {
    t = await createTestApp({ env: { FREE_PLAN_LIMITS: 'max_members=2,max_api_keys=0' } });
    admin = await createStaff(t, 'admin');
    const support = await createStaff(t, 'support');
    adminAgent = await login(t, admin.email, admin.password);
    supportAgent = await login(t, support.email, support.password);
  });

  afterAll(async () => {
    await t?.close();
  });

  const show = (agent: Agent, teamId: number) =>
    agent.get(`/admin/api/resources/teams/records/${teamId}/show`).expect(200);

  const setOverride = (agent: Agent, teamId: number, planOverride: string) =>
    agent
      .post(`/admin/api/resources/teams/records/${teamId}/planOverride`)
      .type('form')
      .send({ planOverride });

  const limitsOf = async (owner: SignedUp): Promise<unknown> => {
    const res = await t.http
      .get(`/api/v1/teams/${owner.team.id}/plan`)
      .set('Authorization', bearer(owner.accessToken))
      .expect(200);
    return (res.body as { limits: unknown }).limits;
  };

  const teamLogs = (teamId: number) =>
    t.db
      .select()
      .from(activityLogs)
      .where(
        and(
          eq(activityLogs.teamId, teamId),
          eq(activityLogs.action, ActivityType.ADMIN_UPDATE_TEAM),
        ),
      )
      .orderBy(desc(activityLogs.id));

  it("shows the plan, seats, limits in force, usage and features on the team's page", async () => {
    const owner = await signUpVerified(t);
    await t.db
      .update(teams)
      .set({ features: ['sso'], seatsBilled: 1 })
      .where(eq(teams.id, owner.team.id));
    for (const agent of [adminAgent, supportAgent]) {
      const { params } = (await show(agent, owner.team.id)).body.record;
      expect(params).toMatchObject({
        planProduct: 'Free plan',
        planStatus: 'never subscribed',
        planSeats: '1 / 1',
        planLimits: 'max_members 2, max_api_keys 0, max_webhooks unlimited (from FREE_PLAN_LIMITS)',
        planUsage: 'members 1, pending invitations 0, API keys 0, webhooks 0',
        planFeatures: 'sso',
        planOverrideJson: '',
      });
    }
  });

  it('an admin sets and clears the override (ADMIN_UPDATE_TEAM); it wins over the free plan', async () => {
    const owner = await signUpVerified(t);
    const set = await setOverride(
      adminAgent,
      owner.team.id,
      '{"max_members": 50, "max_api_keys": null}',
    ).expect(200);
    expect(set.body.notice).toEqual({ message: 'Plan override saved', type: 'success' });
    const [row] = await t.db.select().from(teams).where(eq(teams.id, owner.team.id));
    expect(row!.planOverride).toEqual({ maxMembers: 50, maxApiKeys: null });
    expect(await limitsOf(owner)).toEqual({ maxMembers: 50, maxApiKeys: null, maxWebhooks: null });
    expect(await teamLogs(owner.team.id)).toEqual([expect.objectContaining({ userId: admin.id })]);
    const { params } = (await show(supportAgent, owner.team.id)).body.record;
    expect(params).toMatchObject({
      planOverrideJson: '{"max_members":50,"max_api_keys":null}',
      planLimits: expect.stringContaining('(from the override)'),
    });
    // The same override again changes nothing and logs nothing.
    await setOverride(
      adminAgent,
      owner.team.id,
      '{"max_api_keys": null, "max_members": 50}',
    ).expect(200);
    expect(await teamLogs(owner.team.id)).toHaveLength(1);

    await setOverride(adminAgent, owner.team.id, '').expect(200);
    const [cleared] = await t.db.select().from(teams).where(eq(teams.id, owner.team.id));
    expect(cleared!.planOverride).toBeNull();
    expect(await limitsOf(owner)).toEqual({ maxMembers: 2, maxApiKeys: 0, maxWebhooks: null });
    expect(await teamLogs(owner.team.id)).toHaveLength(2);
  });

  it.each([
    ['not JSON', '{max_members: 5}'],
    ['an unknown key', '{"seats": 5}'],
    ['not a whole number', '{"max_members": 2.5}'],
  ])('refuses %s as a field error and changes nothing', async (_case, text) => {
    const owner = await signUpVerified(t);
    const res = await setOverride(adminAgent, owner.team.id, text).expect(200);
    expect(res.body.notice.type).toBe('error');
    expect(res.body.record.errors.planOverride).toMatchObject({ type: 'admin.invalid_input' });
    const [row] = await t.db.select().from(teams).where(eq(teams.id, owner.team.id));
    expect(row!.planOverride).toBeNull();
    expect(await teamLogs(owner.team.id)).toEqual([]);
  });

  it('support staff read the override but cannot change it', async () => {
    const owner = await signUpVerified(t);
    await t.db
      .update(teams)
      .set({ planOverride: { maxMembers: 9 } })
      .where(eq(teams.id, owner.team.id));
    const res = await setOverride(supportAgent, owner.team.id, '{"max_members": 1000}');
    expect({ status: res.status, code: res.body.code }).toEqual({
      status: 403,
      code: 'admin.read_only',
    });
    const [row] = await t.db.select().from(teams).where(eq(teams.id, owner.team.id));
    expect(row!.planOverride).toEqual({ maxMembers: 9 });
    expect((await show(supportAgent, owner.team.id)).body.record.params.planOverrideJson).toBe(
      '{"max_members":9}',
    );
  });

  it('the dashboard counts paying seats: billed quantity of active and past-due per-seat plans', async () => {
    const paying = async () =>
      (await adminAgent.get('/admin/api/dashboard').expect(200)).body.payingSeats as number;
    const before = await paying();
    const rows: (typeof teams.$inferInsert)[] = [
      { name: 'Seats active', perSeat: true, subscriptionStatus: 'active', seatsBilled: 3 },
      { name: 'Seats past due', perSeat: true, subscriptionStatus: 'past_due', seatsBilled: 2 },
      // Not paying: a trial, an ended plan, a flat price, a quantity not confirmed yet.
      { name: 'Seats trial', perSeat: true, subscriptionStatus: 'trialing', seatsBilled: 5 },
      { name: 'Seats ended', perSeat: true, subscriptionStatus: 'canceled', seatsBilled: 7 },
      { name: 'Flat price', perSeat: false, subscriptionStatus: 'active', seatsBilled: 11 },
      { name: 'Unconfirmed', perSeat: true, subscriptionStatus: 'active', seatsBilled: null },
    ];
    await t.db.insert(teams).values(rows);
    expect((await paying()) - before).toBe(5);
  });
});
