import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import Stripe from 'stripe';
import { stripeEvents, teamMembers, teams, users } from '../../src/database/schema.js';
import { BillingRepository } from '../../src/modules/billing/billing.repository.js';
import { BillingService } from '../../src/modules/billing/billing.service.js';
import { DEMO_PLANS, ensureDemoProducts } from '../../src/modules/billing/demo-products.js';
import { stripeOptions } from '../../src/modules/billing/stripe.client.js';
import { SubscriptionSyncService } from '../../src/modules/billing/subscription-sync.service.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import {
  FAKE_STRIPE_SECRET_KEY,
  FAKE_WEBHOOK_SECRET,
  startFakeStripe,
  type FakeStripe,
} from '../support/fake-stripe.js';

describe('billing services on PostgreSQL', () => {
  let fake: FakeStripe;
  let t: TestApp;
  let repo: BillingRepository;
  let sync: SubscriptionSyncService;
  let billing: BillingService;

  beforeAll(async () => {
    fake = await startFakeStripe();
    t = await createTestApp({
      env: {
        STRIPE_SECRET_KEY: FAKE_STRIPE_SECRET_KEY,
        STRIPE_WEBHOOK_SECRET: FAKE_WEBHOOK_SECRET,
        STRIPE_API_URL: fake.url,
      },
    });
    repo = t.app.get(BillingRepository);
    sync = t.app.get(SubscriptionSyncService);
    billing = t.app.get(BillingService);
  });

  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  async function team(customerId: string | null = `cus_${Math.random().toString(36).slice(2)}`) {
    const [row] = await t.db
      .insert(teams)
      .values({ name: 'Int team', stripeCustomerId: customerId })
      .returning();
    return row!;
  }

  async function user() {
    const [row] = await t.db
      .insert(users)
      .values({ email: uniqueEmail('billing'), passwordHash: 'x' })
      .returning();
    return row!;
  }

  describe('ensureDemoProducts', () => {
    it('creates Base $8 and Plus $12 monthly with a 7-day trial once; reruns create nothing', async () => {
      const stripe = new Stripe(FAKE_STRIPE_SECRET_KEY, stripeOptions(new URL(fake.url)));
      const first = await ensureDemoProducts(stripe);
      expect(first.created).toHaveLength(4);
      const again = await ensureDemoProducts(stripe);
      expect(again.created).toEqual([]);

      const plans = await billing.listPlans({ fresh: true });
      expect(
        plans.map(({ name, amount, currency, interval, trialDays }) => ({
          name,
          amount,
          currency,
          interval,
          trialDays,
        })),
      ).toEqual([
        { name: 'Base', amount: 800, currency: 'usd', interval: 'month', trialDays: 7 },
        { name: 'Plus', amount: 1200, currency: 'usd', interval: 'month', trialDays: 7 },
      ]);
      expect(
        [...fake.products.values()].filter(
          (p) => (p.metadata as Record<string, string>).nest_saas_plan,
        ),
      ).toHaveLength(DEMO_PLANS.length);
    });

    it('completes a half-finished run: a product without its price gets only the price', async () => {
      const other = await startFakeStripe();
      try {
        const stripe = new Stripe(FAKE_STRIPE_SECRET_KEY, stripeOptions(new URL(other.url)));
        await stripe.products.create({ name: 'Base', metadata: { nest_saas_plan: 'base' } });
        const { created } = await ensureDemoProducts(stripe);
        expect(created.filter((c) => c.startsWith('product'))).toEqual([
          expect.stringContaining('(Plus)'),
        ]);
        expect(created.filter((c) => c.startsWith('price'))).toHaveLength(2);
        expect(other.products.size).toBe(2);
      } finally {
        await other.close();
      }
    });
  });

  describe('SubscriptionSyncService.apply', () => {
    const snapshot = (customerId: string, status: string, subscriptionId = 'sub_int_1') => ({
      subscriptionId: `${subscriptionId}_${customerId}`,
      customerId,
      status,
      product: { id: 'prod_int', name: 'Int plan' },
      perSeat: false,
      itemId: null,
      cancelAtPeriodEnd: false,
      currentPeriodEnd: null,
    });

    it('records the event and updates the team in one transaction; a second apply is a duplicate', async () => {
      const row = await team();
      const event = { id: `evt_int_${row.id}`, type: 'customer.subscription.updated' };
      const first = await sync.apply({
        snapshot: snapshot(row.stripeCustomerId!, 'active'),
        asOf: 1_000,
        event,
      });
      expect(first).toEqual({ outcome: 'applied', teamId: row.id });
      const second = await sync.apply({
        snapshot: snapshot(row.stripeCustomerId!, 'canceled'),
        asOf: 2_000,
        event,
      });
      expect(second.outcome).toBe('duplicate');
      const [updated] = await t.db.select().from(teams).where(eq(teams.id, row.id));
      expect(updated).toMatchObject({
        subscriptionStatus: 'active',
        planName: 'Int plan',
        stripeProductId: 'prod_int',
      });
      expect(await repo.lastAppliedEventAt(row.id)).toBe(1_000);
    });

    it('rolls the event record back when the team update fails', async () => {
      const row = await team();
      const event = { id: `evt_int_fail_${row.id}`, type: 'customer.subscription.updated' };
      // A subscription id already used by another team violates teams_stripe_subscription_id_unique.
      const otherTeam = await team();
      await t.db
        .update(teams)
        .set({ stripeSubscriptionId: 'sub_taken_by_other_team' })
        .where(eq(teams.id, otherTeam.id));
      await expect(
        sync.apply({
          snapshot: {
            ...snapshot(row.stripeCustomerId!, 'active'),
            subscriptionId: 'sub_taken_by_other_team',
          },
          asOf: 1_000,
          event,
        }),
      ).rejects.toThrow();
      expect(await t.db.select().from(stripeEvents).where(eq(stripeEvents.id, event.id))).toEqual(
        [],
      );
    });

    it('without an event (checkout redirect) nothing is recorded and newer applied events win', async () => {
      const row = await team();
      await sync.apply({
        snapshot: snapshot(row.stripeCustomerId!, 'past_due'),
        asOf: 5_000,
        event: { id: `evt_int_new_${row.id}`, type: 'customer.subscription.updated' },
      });
      const stale = await sync.apply({
        snapshot: snapshot(row.stripeCustomerId!, 'active'),
        asOf: 4_999,
      });
      expect(stale.outcome).toBe('stale');
      const fresh = await sync.apply({
        snapshot: snapshot(row.stripeCustomerId!, 'active'),
        asOf: 5_001,
      });
      expect(fresh.outcome).toBe('applied');
      expect(
        await t.db.select().from(stripeEvents).where(eq(stripeEvents.teamId, row.id)),
      ).toHaveLength(1);
    });

    it('unknown customer, or a customer of another team than expected: nothing written', async () => {
      const row = await team();
      const other = await team();
      const event = { id: `evt_int_unknown_${row.id}`, type: 'customer.subscription.created' };
      expect(
        (await sync.apply({ snapshot: snapshot('cus_nobody', 'active'), asOf: 1, event })).outcome,
      ).toBe('unknown_customer');
      expect(
        (
          await sync.apply({
            snapshot: snapshot(row.stripeCustomerId!, 'active'),
            asOf: 1,
            teamId: other.id,
            event,
          })
        ).outcome,
      ).toBe('unknown_customer');
      expect(await repo.eventExists(event.id)).toBe(false);
      const [unchanged] = await t.db.select().from(teams).where(eq(teams.id, row.id));
      expect(unchanged!.subscriptionStatus).toBeNull();
    });
  });

  describe('assertNoSoleOwnedLiveSubscription (sole-owned teams from TeamsService)', () => {
    it('lists only live-subscribed teams the user owns alone', async () => {
      const me = await user();
      const other = await user();
      const alone = await team(null);
      const shared = await team(null);
      const asMember = await team(null);
      const ended = await team(null);
      await t.db.update(teams).set({ subscriptionStatus: 'active' }).where(eq(teams.id, alone.id));
      await t.db
        .update(teams)
        .set({ subscriptionStatus: 'past_due' })
        .where(eq(teams.id, shared.id));
      await t.db
        .update(teams)
        .set({ subscriptionStatus: 'trialing' })
        .where(eq(teams.id, asMember.id));
      await t.db
        .update(teams)
        .set({ subscriptionStatus: 'canceled' })
        .where(eq(teams.id, ended.id));
      await t.db.insert(teamMembers).values([
        { teamId: alone.id, userId: me.id, role: 'owner' },
        { teamId: alone.id, userId: other.id, role: 'member' },
        { teamId: shared.id, userId: me.id, role: 'owner' },
        { teamId: shared.id, userId: other.id, role: 'owner' },
        { teamId: asMember.id, userId: me.id, role: 'member' },
        { teamId: ended.id, userId: me.id, role: 'owner' },
      ]);
      await expect(billing.assertNoSoleOwnedLiveSubscription(me.id)).rejects.toMatchObject({
        code: 'billing.active_subscription',
        details: [{ field: `teams.${alone.id}`, message: '"Int team" has a active subscription' }],
      });
      await expect(billing.assertNoSoleOwnedLiveSubscription(other.id)).resolves.toBeUndefined();
    });
  });
});
