import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import Stripe from 'stripe';
import {
  ActivityType,
  invitations,
  stripeEvents,
  teamMembers,
  teams,
  type TeamRole,
} from '../../src/database/schema.js';
import { stripeOptions } from '../../src/modules/billing/stripe.client.js';
import { activityRows } from '../support/activity.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, signUp, signUpVerified, type SignedUp } from '../support/auth.js';
import {
  FAKE_STRIPE_SECRET_KEY,
  FAKE_WEBHOOK_SECRET,
  startFakeStripe,
  type FakeStripe,
} from '../support/fake-stripe.js';

let ipCounter = 0;
/** A distinct client address per request (TRUST_PROXY is on), to check it is the one logged. */
const freshIp = () => `192.0.2.${++ipCounter}`;

/**
 * Makes PostgreSQL refuse activity rows of `action` for one team, so that a change whose row
 * cannot be written shows whether the change itself is rolled back (same transaction).
 * Scoped to the team: other suites share the database. Returns the cleanup.
 */
async function failActivityInserts(
  t: TestApp,
  teamId: number,
  action: ActivityType,
): Promise<() => Promise<void>> {
  const name = `fail_activity_${randomBytes(4).toString('hex')}`;
  await t.db.execute(
    sql.raw(`create function ${name}() returns trigger language plpgsql as $$
      begin
        if new.team_id = ${teamId} and new.action = '${action}' then
          raise exception 'activity row refused by test';
        end if;
        return new;
      end $$`),
  );
  await t.db.execute(
    sql.raw(
      `create trigger ${name} before insert on activity_logs for each row execute function ${name}()`,
    ),
  );
  return async () => {
    await t.db.execute(sql.raw(`drop trigger ${name} on activity_logs`));
    await t.db.execute(sql.raw(`drop function ${name}()`));
  };
}

describe('audit rows for team, member and invitation changes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { TRUST_PROXY: 'true' } });
  });

  afterAll(async () => {
    await t.close();
  });

  async function addMember(teamId: number, userId: number, role: TeamRole): Promise<number> {
    const [row] = await t.db.insert(teamMembers).values({ teamId, userId, role }).returning();
    return row!.id;
  }

  async function ownerMemberId(u: SignedUp): Promise<number> {
    const [row] = await t.db
      .select({ id: teamMembers.id })
      .from(teamMembers)
      .where(eq(teamMembers.userId, u.user.id));
    return row!.id;
  }

  async function pendingInvitation(teamId: number, invitedBy: number, email = uniqueEmail()) {
    const [row] = await t.db
      .insert(invitations)
      .values({ teamId, email, role: 'member', invitedBy })
      .returning();
    return row!;
  }

  const teamName = async (id: number) =>
    (await t.db.select().from(teams).where(eq(teams.id, id)))[0]!.name;

  describe('PATCH /teams/:teamId → UPDATE_TEAM', () => {
    it('logs the caller, the team and the client IP; the same name again logs nothing', async () => {
      const owner = await signUp(t);
      const ip = freshIp();
      const patch = (name: string, from = ip) =>
        t.http
          .patch(`/api/v1/teams/${owner.team.id}`)
          .set('Authorization', bearer(owner.accessToken))
          .set('X-Forwarded-For', from)
          .send({ name });
      await patch('Renamed').expect(200);
      expect(await activityRows(t.db, { teamId: owner.team.id, action: 'UPDATE_TEAM' })).toEqual([
        expect.objectContaining({
          action: 'UPDATE_TEAM',
          userId: owner.user.id,
          teamId: owner.team.id,
          ipAddress: ip,
        }),
      ]);
      await patch('Renamed', freshIp()).expect(200);
      expect(
        await activityRows(t.db, { teamId: owner.team.id, action: 'UPDATE_TEAM' }),
      ).toHaveLength(1);

      // And it shows in the team's log.
      const log = await t.http
        .get(`/api/v1/teams/${owner.team.id}/activity?action=UPDATE_TEAM`)
        .set('Authorization', bearer(owner.accessToken))
        .expect(200);
      expect(log.body.items).toEqual([
        expect.objectContaining({ action: 'UPDATE_TEAM', userId: owner.user.id, ipAddress: ip }),
      ]);
    });

    it('refused changes (400, 403) log nothing', async () => {
      const owner = await signUp(t);
      const member = await signUp(t);
      await addMember(owner.team.id, member.user.id, 'member');
      await t.http
        .patch(`/api/v1/teams/${owner.team.id}`)
        .set('Authorization', bearer(owner.accessToken))
        .send({ name: '' })
        .expect(400);
      await t.http
        .patch(`/api/v1/teams/${owner.team.id}`)
        .set('Authorization', bearer(member.accessToken))
        .send({ name: 'By a member' })
        .expect(403);
      expect(await activityRows(t.db, { teamId: owner.team.id, action: 'UPDATE_TEAM' })).toEqual(
        [],
      );
    });

    it('when the row cannot be written, the rename is rolled back', async () => {
      const owner = await signUp(t);
      const before = await teamName(owner.team.id);
      const restore = await failActivityInserts(t, owner.team.id, ActivityType.UPDATE_TEAM);
      try {
        await t.unchecked
          .patch(`/api/v1/teams/${owner.team.id}`)
          .set('Authorization', bearer(owner.accessToken))
          .send({ name: 'Never saved' })
          .expect(500);
      } finally {
        await restore();
      }
      expect(await teamName(owner.team.id)).toBe(before);
    });
  });

  describe('PATCH /teams/:teamId/members/:memberId → UPDATE_TEAM_MEMBER', () => {
    const patchRole = (
      owner: SignedUp,
      memberId: number,
      role: TeamRole,
      ip = freshIp(),
      http = t.http,
    ) =>
      http
        .patch(`/api/v1/teams/${owner.team.id}/members/${memberId}`)
        .set('Authorization', bearer(owner.accessToken))
        .set('X-Forwarded-For', ip)
        .send({ role });

    it('logs a role change by the caller with the IP; the role it already has logs nothing', async () => {
      const owner = await signUp(t);
      const member = await signUp(t);
      const memberId = await addMember(owner.team.id, member.user.id, 'member');
      const ip = freshIp();
      await patchRole(owner, memberId, 'owner', ip).expect(200);
      await patchRole(owner, memberId, 'owner').expect(200);
      expect(
        await activityRows(t.db, { teamId: owner.team.id, action: 'UPDATE_TEAM_MEMBER' }),
      ).toEqual([
        expect.objectContaining({ userId: owner.user.id, teamId: owner.team.id, ipAddress: ip }),
      ]);
    });

    it('409 last owner (demoting the only owner) logs nothing', async () => {
      const owner = await signUp(t);
      const res = await patchRole(owner, await ownerMemberId(owner), 'member').expect(409);
      expect(res.body.code).toBe('team.last_owner');
      expect(
        await activityRows(t.db, { teamId: owner.team.id, action: 'UPDATE_TEAM_MEMBER' }),
      ).toEqual([]);
    });

    it('when the row cannot be written, the role change is rolled back', async () => {
      const owner = await signUp(t);
      const member = await signUp(t);
      const memberId = await addMember(owner.team.id, member.user.id, 'member');
      const restore = await failActivityInserts(t, owner.team.id, ActivityType.UPDATE_TEAM_MEMBER);
      try {
        await patchRole(owner, memberId, 'owner', freshIp(), t.unchecked).expect(500);
      } finally {
        await restore();
      }
      const [row] = await t.db.select().from(teamMembers).where(eq(teamMembers.id, memberId));
      expect(row!.role).toBe('member');
    });
  });

  describe('DELETE /teams/:teamId/invitations/:id → REVOKE_INVITATION', () => {
    const revoke = (owner: SignedUp, invitationId: number, ip = freshIp(), http = t.http) =>
      http
        .delete(`/api/v1/teams/${owner.team.id}/invitations/${invitationId}`)
        .set('Authorization', bearer(owner.accessToken))
        .set('X-Forwarded-For', ip);

    it('logs the revoke once; revoking again logs nothing', async () => {
      const owner = await signUp(t);
      const invitation = await pendingInvitation(owner.team.id, owner.user.id);
      const ip = freshIp();
      await revoke(owner, invitation.id, ip).expect(204);
      await revoke(owner, invitation.id).expect(204);
      expect(
        await activityRows(t.db, { teamId: owner.team.id, action: 'REVOKE_INVITATION' }),
      ).toEqual([
        expect.objectContaining({ userId: owner.user.id, teamId: owner.team.id, ipAddress: ip }),
      ]);
    });

    it('409 for an accepted invitation logs nothing', async () => {
      const owner = await signUp(t);
      const [accepted] = await t.db
        .insert(invitations)
        .values({
          teamId: owner.team.id,
          email: uniqueEmail(),
          role: 'member',
          invitedBy: owner.user.id,
          status: 'accepted',
        })
        .returning();
      await revoke(owner, accepted!.id).expect(409);
      expect(
        await activityRows(t.db, { teamId: owner.team.id, action: 'REVOKE_INVITATION' }),
      ).toEqual([]);
    });

    it('when the row cannot be written, the invitation stays pending', async () => {
      const owner = await signUp(t);
      const invitation = await pendingInvitation(owner.team.id, owner.user.id);
      const restore = await failActivityInserts(t, owner.team.id, ActivityType.REVOKE_INVITATION);
      try {
        await revoke(owner, invitation.id, freshIp(), t.unchecked).expect(500);
      } finally {
        await restore();
      }
      const [row] = await t.db.select().from(invitations).where(eq(invitations.id, invitation.id));
      expect(row!.status).toBe('pending');
    });
  });

  describe('POST /invitations/:id/decline → DECLINE_INVITATION', () => {
    it("logs the invitee against the inviting team (it shows in that team's log); declining again is a 409 and logs nothing", async () => {
      const owner = await signUp(t);
      const invitee = await signUpVerified(t);
      const invitation = await pendingInvitation(owner.team.id, owner.user.id, invitee.email);
      const ip = freshIp();
      const decline = (from = freshIp()) =>
        t.http
          .post(`/api/v1/invitations/${invitation.id}/decline`)
          .set('Authorization', bearer(invitee.accessToken))
          .set('X-Forwarded-For', from);
      await decline(ip).expect(204);
      await decline().expect(409);
      expect(
        await activityRows(t.db, { teamId: owner.team.id, action: 'DECLINE_INVITATION' }),
      ).toEqual([
        expect.objectContaining({ userId: invitee.user.id, teamId: owner.team.id, ipAddress: ip }),
      ]);
      const log = await t.http
        .get(`/api/v1/teams/${owner.team.id}/activity?action=DECLINE_INVITATION`)
        .set('Authorization', bearer(owner.accessToken))
        .expect(200);
      expect(log.body.items).toEqual([
        expect.objectContaining({
          userId: invitee.user.id,
          user: { id: invitee.user.id, name: null, email: invitee.email },
        }),
      ]);
    });

    it('when the row cannot be written, the invitation stays pending', async () => {
      const owner = await signUp(t);
      const invitee = await signUpVerified(t);
      const invitation = await pendingInvitation(owner.team.id, owner.user.id, invitee.email);
      const restore = await failActivityInserts(t, owner.team.id, ActivityType.DECLINE_INVITATION);
      try {
        await t.unchecked
          .post(`/api/v1/invitations/${invitation.id}/decline`)
          .set('Authorization', bearer(invitee.accessToken))
          .expect(500);
      } finally {
        await restore();
      }
      const [row] = await t.db.select().from(invitations).where(eq(invitations.id, invitation.id));
      expect(row!.status).toBe('pending');
    });
  });
});

describe('audit rows for subscription changes from Stripe (UPDATE_SUBSCRIPTION)', () => {
  let fake: FakeStripe;
  let t: TestApp;
  let stripe: Stripe;
  let plan: { product: Record<string, unknown>; price: Record<string, unknown> };

  beforeAll(async () => {
    fake = await startFakeStripe();
    plan = fake.createPlan({ name: 'Audit plan', amount: 900 });
    t = await createTestApp({
      env: {
        STRIPE_SECRET_KEY: FAKE_STRIPE_SECRET_KEY,
        STRIPE_WEBHOOK_SECRET: FAKE_WEBHOOK_SECRET,
        STRIPE_API_URL: fake.url,
        TRUST_PROXY: 'true',
      },
    });
    stripe = new Stripe(FAKE_STRIPE_SECRET_KEY, stripeOptions(new URL(fake.url)));
  });

  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  async function teamWithCustomer() {
    const customer = await stripe.customers.create({ name: 'Audit team' });
    const [team] = await t.db
      .insert(teams)
      .values({ name: 'Audit team', stripeCustomerId: customer.id })
      .returning();
    return { teamId: team!.id, customerId: customer.id };
  }

  function deliver(event: Record<string, unknown>, ip = freshIp()) {
    const { payload, header } = fake.sign(event);
    return t.http
      .post('/api/v1/billing/webhook')
      .set('Content-Type', 'application/json')
      .set('Stripe-Signature', header)
      .set('X-Forwarded-For', ip)
      .send(payload);
  }

  const rows = (teamId: number) => activityRows(t.db, { teamId, action: 'UPDATE_SUBSCRIPTION' });

  it('a webhook that changes the team logs one row: no user, the team, the caller IP', async () => {
    const { teamId, customerId } = await teamWithCustomer();
    const sub = fake.createSubscription(customerId, plan.price.id as string, 'trialing');
    const ip = freshIp();
    const event = fake.event('customer.subscription.created', sub, { created: 1_000 });
    expect((await deliver(event, ip).expect(200)).body.outcome).toBe('applied');
    expect(await rows(teamId)).toEqual([
      expect.objectContaining({
        action: 'UPDATE_SUBSCRIPTION',
        userId: null,
        teamId,
        ipAddress: ip,
      }),
    ]);

    // A status change is another row.
    fake.updateSubscription(sub.id as string, { status: 'active' });
    await deliver(fake.event('customer.subscription.updated', sub, { created: 2_000 })).expect(200);
    expect(await rows(teamId)).toHaveLength(2);
  });

  it('a redelivered event, an older event and an event repeating the current state log nothing', async () => {
    const { teamId, customerId } = await teamWithCustomer();
    const sub = fake.createSubscription(customerId, plan.price.id as string, 'active');
    const first = fake.event('customer.subscription.created', sub, { created: 5_000 });
    await deliver(first).expect(200);
    expect(await rows(teamId)).toHaveLength(1);

    expect((await deliver(first).expect(200)).body.outcome).toBe('duplicate');

    fake.updateSubscription(sub.id as string, { status: 'past_due' });
    const older = fake.event('customer.subscription.updated', sub, { created: 4_000 });
    expect((await deliver(older).expect(200)).body.outcome).toBe('stale');

    fake.updateSubscription(sub.id as string, { status: 'active' });
    const same = fake.event('customer.subscription.updated', sub, { created: 6_000 });
    expect((await deliver(same).expect(200)).body.outcome).toBe('applied');

    expect(await rows(teamId)).toHaveLength(1);
    const [team] = await t.db.select().from(teams).where(eq(teams.id, teamId));
    expect(team!.subscriptionStatus).toBe('active');
  });

  it('a rolled-back webhook (the row cannot be written) leaves no row, no event, no change; the retry logs once', async () => {
    const { teamId, customerId } = await teamWithCustomer();
    const sub = fake.createSubscription(customerId, plan.price.id as string, 'active');
    const event = fake.event('customer.subscription.created', sub);
    const restore = await failActivityInserts(t, teamId, ActivityType.UPDATE_SUBSCRIPTION);
    try {
      const res = await deliver(event);
      expect(res.status).toBeGreaterThanOrEqual(500);
    } finally {
      await restore();
    }
    expect(await rows(teamId)).toEqual([]);
    expect(
      await t.db
        .select()
        .from(stripeEvents)
        .where(eq(stripeEvents.id, event.id as string)),
    ).toEqual([]);
    const [unchanged] = await t.db.select().from(teams).where(eq(teams.id, teamId));
    expect(unchanged!.subscriptionStatus).toBeNull();

    expect((await deliver(event).expect(200)).body.outcome).toBe('applied');
    expect(await rows(teamId)).toHaveLength(1);
  });

  it('the checkout-success redirect logs the change (no user, the browser IP); after it, the webhook with the same state logs nothing', async () => {
    const { teamId, customerId } = await teamWithCustomer();
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      customer: customerId,
      client_reference_id: String(teamId),
      metadata: { teamId: String(teamId) },
      line_items: [{ price: plan.price.id as string, quantity: 1 }],
      success_url: 'http://app.test/ok',
    });
    const sub = fake.completeCheckout(session.id);
    const ip = freshIp();
    const redirect = () =>
      t.http
        .get('/api/v1/billing/checkout/success')
        .query({ session_id: session.id })
        .set('X-Forwarded-For', ip);
    await redirect().expect(303);
    expect(await rows(teamId)).toEqual([
      expect.objectContaining({ userId: null, teamId, ipAddress: ip }),
    ]);
    // The browser reloads the page: same state, nothing logged.
    await redirect().expect(303);
    await deliver(
      fake.event('customer.subscription.created', sub, { created: Math.floor(Date.now() / 1000) }),
    ).expect(200);
    expect(await rows(teamId)).toHaveLength(1);
  });
});
