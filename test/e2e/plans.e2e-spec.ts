import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { eq } from 'drizzle-orm';
import Stripe from 'stripe';
import { invitations, teams, users, type PlanLimits } from '../../src/database/schema.js';
import { AccessModule } from '../../src/modules/access/access.module.js';
import { TeamRole } from '../../src/modules/access/team-role.decorator.js';
import { stripeOptions } from '../../src/modules/billing/stripe.client.js';
import { InvitationsService } from '../../src/modules/invitations/invitations.service.js';
import { PlansModule } from '../../src/modules/plans/plans.module.js';
import { RequiresFeature } from '../../src/modules/plans/requires-feature.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, DEFAULT_PASSWORD, signUpVerified, type SignedUp } from '../support/auth.js';
import {
  FAKE_STRIPE_SECRET_KEY,
  FAKE_WEBHOOK_SECRET,
  startFakeStripe,
  type FakeStripe,
} from '../support/fake-stripe.js';

/** A route only teams with the `sso` entitlement may call (test-only: no v1.2 route has one). */
@ApiExcludeController()
@Controller('teams/:teamId/feature-probe')
class FeatureProbeController {
  @Get()
  @RequiresFeature('sso')
  @TeamRole('member')
  probe(): { ok: true } {
    return { ok: true };
  }
}

@Module({ imports: [AccessModule, PlansModule], controllers: [FeatureProbeController] })
class FeatureProbeModule {}

const FREE = { maxMembers: 2, maxApiKeys: 1, maxWebhooks: 1 };

describe('plans: the plan view and the limits (API.md v1.2)', () => {
  let t: TestApp;
  let fake: FakeStripe;
  let stripe: Stripe;

  beforeAll(async () => {
    fake = await startFakeStripe();
    t = await createTestApp({
      env: {
        FREE_PLAN_LIMITS: 'max_members=2,max_api_keys=1,max_webhooks=1',
        STRIPE_SECRET_KEY: FAKE_STRIPE_SECRET_KEY,
        STRIPE_WEBHOOK_SECRET: FAKE_WEBHOOK_SECRET,
        STRIPE_API_URL: fake.url,
      },
      imports: [FeatureProbeModule],
    });
    stripe = new Stripe(FAKE_STRIPE_SECRET_KEY, stripeOptions(new URL(fake.url)));
  });

  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  const planOf = (owner: SignedUp) =>
    t.http
      .get(`/api/v1/teams/${owner.team.id}/plan`)
      .set('Authorization', bearer(owner.accessToken));

  const invite = (owner: SignedUp, email = uniqueEmail('invitee')) =>
    t.http
      .post(`/api/v1/teams/${owner.team.id}/invitations`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ email, role: 'member' });

  const override = (teamId: number, limits: PlanLimits | null) =>
    t.db.update(teams).set({ planOverride: limits }).where(eq(teams.id, teamId));

  const limitReached = (limit: string, max: number, used: number) => ({
    status: 402,
    code: 'plan.limit_reached',
    details: [expect.objectContaining({ limit, max, used })],
  });

  const problem = (res: { status: number; body: { code?: string; details?: unknown } }) => ({
    status: res.status,
    code: res.body.code,
    details: res.body.details,
  });

  /** The token of the invite link of a pending invitation to `email`. */
  async function tokenFor(teamId: number, email: string): Promise<string> {
    const [row] = await t.db.select().from(invitations).where(eq(invitations.email, email));
    expect(row?.teamId).toBe(teamId);
    const link = t.app.get(InvitationsService).invitationLink(row!);
    return decodeURIComponent(new URL(link).searchParams.get('token')!);
  }

  describe('the free plan (FREE_PLAN_LIMITS)', () => {
    it('a new team sees the free plan, its limits and its usage; GET /teams/:id carries it without usage', async () => {
      const owner = await signUpVerified(t);
      const res = await planOf(owner).expect(200);
      expect(res.body).toEqual({
        plan: null,
        status: null,
        cancelAtPeriodEnd: false,
        currentPeriodEnd: null,
        perSeat: false,
        seats: { used: 1, billed: null },
        limits: FREE,
        usage: { members: 1, pendingInvitations: 0, apiKeys: 0, webhooks: 0 },
        features: [],
      });
      const team = await t.http
        .get(`/api/v1/teams/${owner.team.id}`)
        .set('Authorization', bearer(owner.accessToken))
        .expect(200);
      const { usage: _usage, ...withoutUsage } = res.body as Record<string, unknown>;
      expect(team.body.plan).toEqual(withoutUsage);
    });

    it('members read the plan; a team API key needs team:read; outsiders get 404', async () => {
      const owner = await signUpVerified(t);
      const outsider = await signUpVerified(t);
      const key = async (scopes: string[]) =>
        (
          (
            await t.http
              .post(`/api/v1/teams/${owner.team.id}/api-keys`)
              .set('Authorization', bearer(owner.accessToken))
              .send({ name: 'reader', scopes })
              .expect(201)
          ).body as { key: string }
        ).key;
      const read = (token: string) =>
        t.http.get(`/api/v1/teams/${owner.team.id}/plan`).set('Authorization', bearer(token));
      const reader = await key(['team:read']);
      expect((await read(reader).expect(200)).body.usage.apiKeys).toBe(1);
      expect((await read(outsider.accessToken)).status).toBe(404);
      await override(owner.team.id, { maxApiKeys: 2 });
      const writer = await key(['webhooks:write']);
      expect((await read(writer)).body.code).toBe('api_key.scope_missing');
    });

    it('inviting past max_members (members + pending invitations) is 402; nothing is written', async () => {
      const owner = await signUpVerified(t);
      await invite(owner).expect(201);
      const refused = await invite(owner);
      expect(problem(refused)).toEqual(limitReached('max_members', 2, 2));
      const plan = await planOf(owner).expect(200);
      expect(plan.body.usage).toEqual({
        members: 1,
        pendingInvitations: 1,
        apiKeys: 0,
        webhooks: 0,
      });
    });

    it('an API key past max_api_keys is 402; a revoked key frees its room', async () => {
      const owner = await signUpVerified(t);
      const create = () =>
        t.http
          .post(`/api/v1/teams/${owner.team.id}/api-keys`)
          .set('Authorization', bearer(owner.accessToken))
          .send({ name: 'ci', scopes: ['team:read'] });
      const first = await create().expect(201);
      expect(problem(await create())).toEqual(limitReached('max_api_keys', 1, 1));
      await t.http
        .delete(`/api/v1/teams/${owner.team.id}/api-keys/${first.body.id}`)
        .set('Authorization', bearer(owner.accessToken))
        .expect(204);
      await create().expect(201);
    });

    it('a webhook endpoint past max_webhooks is 402', async () => {
      const owner = await signUpVerified(t);
      const create = () =>
        t.http
          .post(`/api/v1/teams/${owner.team.id}/webhooks`)
          .set('Authorization', bearer(owner.accessToken))
          .send({ url: 'https://93.184.216.34/hook', events: ['team.updated'] });
      await create().expect(201);
      expect(problem(await create())).toEqual(limitReached('max_webhooks', 1, 1));
      expect((await planOf(owner).expect(200)).body.usage.webhooks).toBe(1);
    });
  });

  describe('joining a full team (a lowered limit keeps everyone, stops new members)', () => {
    /** A team with two pending invitations, then its limit lowered to 2 members. */
    async function fullTeamWithInvitations() {
      const owner = await signUpVerified(t);
      await override(owner.team.id, { maxMembers: 3 });
      const [a, b] = [uniqueEmail('a'), uniqueEmail('b')];
      await invite(owner, a).expect(201);
      await invite(owner, b).expect(201);
      await override(owner.team.id, { maxMembers: 2 });
      return { owner, a, b };
    }

    it('accepting by id: the first fits, the second is 402 and its invitation stays pending', async () => {
      const { owner, a, b } = await fullTeamWithInvitations();
      for (const [email, expected] of [
        [a, 200],
        [b, 402],
      ] as const) {
        const invitee = await signUpVerified(t, { email });
        const [row] = await t.db.select().from(invitations).where(eq(invitations.email, email));
        const res = await t.http
          .post(`/api/v1/invitations/${row!.id}/accept`)
          .set('Authorization', bearer(invitee.accessToken));
        expect(res.status).toBe(expected);
        if (expected === 402) {
          expect(problem(res)).toEqual(limitReached('max_members', 2, 2));
          const [after] = await t.db.select().from(invitations).where(eq(invitations.id, row!.id));
          expect(after!.status).toBe('pending');
        }
      }
      const plan = await planOf(owner).expect(200);
      expect(plan.body.usage).toMatchObject({ members: 2, pendingInvitations: 1 });
      expect(plan.body.limits.maxMembers).toBe(2);
    });

    it('accepting with the link token is 402 too', async () => {
      const { owner, a, b } = await fullTeamWithInvitations();
      await override(owner.team.id, { maxMembers: 1 });
      for (const email of [a, b]) {
        const invitee = await signUpVerified(t, { email });
        const res = await t.http
          .post('/api/v1/invitations/accept')
          .set('Authorization', bearer(invitee.accessToken))
          .send({ token: await tokenFor(owner.team.id, email) });
        expect(problem(res)).toEqual(limitReached('max_members', 1, 1));
      }
    });

    it('signing up with an invite token is 402 and creates no account', async () => {
      const { owner, a } = await fullTeamWithInvitations();
      await override(owner.team.id, { maxMembers: 1 });
      const res = await t.http.post('/api/v1/auth/sign-up').send({
        email: a,
        password: DEFAULT_PASSWORD,
        inviteToken: await tokenFor(owner.team.id, a),
      });
      expect(problem(res)).toEqual(limitReached('max_members', 1, 1));
      expect(await t.db.select().from(users).where(eq(users.email, a))).toEqual([]);
      // Raised again, the same link works.
      await override(owner.team.id, { maxMembers: 2 });
      await t.http
        .post('/api/v1/auth/sign-up')
        .send({
          email: a,
          password: DEFAULT_PASSWORD,
          inviteToken: await tokenFor(owner.team.id, a),
        })
        .expect(201);
    });
  });

  describe("a subscription's product sets the limits; an override wins; deleted → free", () => {
    it('follows the subscription webhook through its life: trial, active, cancel, resume, deleted', async () => {
      const owner = await signUpVerified(t);
      const customer = await stripe.customers.create({ name: 'Plans team' });
      await t.db
        .update(teams)
        .set({ stripeCustomerId: customer.id })
        .where(eq(teams.id, owner.team.id));
      const pro = fake.createPlan({ name: 'Pro', amount: 2900 });
      const productId = pro.product.id as string;
      const priceId = pro.price.id as string;
      fake.products.get(productId)!.metadata = {
        max_members: '10',
        max_api_keys: '3',
        max_webhooks: 'lots',
      };
      fake.prices.get(priceId)!.metadata = { per_seat: 'true' };
      const subscription = fake.createSubscription(customer.id, priceId, 'trialing');
      const deliver = async (type: string, object: Record<string, unknown>, created: number) => {
        const { payload, header } = fake.sign(fake.event(type, object, { created }));
        await t.http
          .post('/api/v1/billing/webhook')
          .set('Content-Type', 'application/json')
          .set('Stripe-Signature', header)
          .send(payload)
          .expect(200);
      };
      const now = Math.floor(Date.now() / 1000);
      await deliver('customer.subscription.created', subscription, now - 1);
      // A trial is the plan already: its product's limits, not the free plan's.
      expect((await planOf(owner).expect(200)).body).toMatchObject({
        plan: { productId, name: 'Pro' },
        status: 'trialing',
        limits: { maxMembers: 10, maxApiKeys: 3, maxWebhooks: null },
      });
      // The trial converts.
      await deliver(
        'customer.subscription.updated',
        fake.updateSubscription(subscription.id as string, { status: 'active' }),
        now,
      );

      const item = (subscription.items as { data: { current_period_end: number }[] }).data[0]!;
      const live = await planOf(owner).expect(200);
      expect(live.body).toEqual({
        plan: { productId, name: 'Pro' },
        status: 'active',
        cancelAtPeriodEnd: false,
        currentPeriodEnd: new Date(item.current_period_end * 1000).toISOString(),
        perSeat: true,
        seats: { used: 1, billed: null },
        // max_webhooks is not a whole number: unlimited.
        limits: { maxMembers: 10, maxApiKeys: 3, maxWebhooks: null },
        usage: { members: 1, pendingInvitations: 0, apiKeys: 0, webhooks: 0 },
        features: [],
      });
      // The free plan's max_members=2 no longer applies.
      await invite(owner).expect(201);
      await invite(owner).expect(201);

      // Cancel at the period's end: still the plan until it ends.
      fake.subscriptions.get(subscription.id as string)!.cancel_at_period_end = true;
      await deliver(
        'customer.subscription.updated',
        fake.subscriptions.get(subscription.id as string)!,
        now + 1,
      );
      expect((await planOf(owner).expect(200)).body).toMatchObject({
        status: 'active',
        cancelAtPeriodEnd: true,
        limits: { maxMembers: 10 },
      });

      // An admin's override wins over the product.
      await override(owner.team.id, { maxMembers: 4, maxApiKeys: 0 });
      expect((await planOf(owner).expect(200)).body.limits).toEqual({
        maxMembers: 4,
        maxApiKeys: 0,
        maxWebhooks: null,
      });
      await override(owner.team.id, null);

      // Resumed before the period ended: renews as before.
      fake.subscriptions.get(subscription.id as string)!.cancel_at_period_end = false;
      await deliver(
        'customer.subscription.updated',
        fake.subscriptions.get(subscription.id as string)!,
        now + 2,
      );
      expect((await planOf(owner).expect(200)).body).toMatchObject({
        status: 'active',
        cancelAtPeriodEnd: false,
        limits: { maxMembers: 10 },
      });

      // Deleted: the free plan again; nothing is removed, new additions stop.
      fake.updateSubscription(subscription.id as string, { status: 'canceled' });
      await deliver(
        'customer.subscription.deleted',
        fake.subscriptions.get(subscription.id as string)!,
        now + 3,
      );
      const ended = await planOf(owner).expect(200);
      expect(ended.body).toEqual({
        plan: null,
        status: 'canceled',
        cancelAtPeriodEnd: false,
        currentPeriodEnd: null,
        perSeat: false,
        seats: { used: 1, billed: null },
        limits: FREE,
        usage: { members: 1, pendingInvitations: 2, apiKeys: 0, webhooks: 0 },
        features: [],
      });
      expect(problem(await invite(owner))).toEqual(limitReached('max_members', 2, 3));
      const team = await t.http
        .get(`/api/v1/teams/${owner.team.id}`)
        .set('Authorization', bearer(owner.accessToken))
        .expect(200);
      expect(team.body.plan).toMatchObject({ plan: null, status: 'canceled', limits: FREE });
    });
  });

  describe('@RequiresFeature', () => {
    it('403 plan.feature_required without the entitlement, 200 with it, 404 for outsiders', async () => {
      const owner = await signUpVerified(t);
      const outsider = await signUpVerified(t);
      const probe = (who: SignedUp) =>
        t.unchecked
          .get(`/api/v1/teams/${owner.team.id}/feature-probe`)
          .set('Authorization', bearer(who.accessToken));
      const refused = await probe(owner);
      expect(problem(refused)).toEqual({
        status: 403,
        code: 'plan.feature_required',
        details: [expect.objectContaining({ feature: 'sso' })],
      });
      // Membership is decided first: the team's existence is never revealed.
      expect((await probe(outsider)).status).toBe(404);
      await t.db
        .update(teams)
        .set({ features: ['sso', 'audit_log'] })
        .where(eq(teams.id, owner.team.id));
      expect((await probe(owner)).body).toEqual({ ok: true });
      expect((await probe(outsider)).status).toBe(404);
      expect((await planOf(owner).expect(200)).body.features).toEqual(['sso', 'audit_log']);
    });
  });
});
