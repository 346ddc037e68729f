import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import Stripe from 'stripe';
import { PG_POOL } from '../../src/database/database.tokens.js';
import { stripeEvents, teams } from '../../src/database/schema.js';
import { stripeOptions } from '../../src/modules/billing/stripe.client.js';
import { createTestApp, type TestApp } from '../support/app.js';
import {
  FAKE_STRIPE_SECRET_KEY,
  FAKE_WEBHOOK_SECRET,
  startFakeStripe,
  type FakeStripe,
  type SubscriptionStatus,
} from '../support/fake-stripe.js';

const WEBHOOK = '/api/v1/billing/webhook';

describe('billing: webhook, plans, checkout success (public routes)', () => {
  let fake: FakeStripe;
  let t: TestApp;
  let stripe: Stripe;
  let base: { product: Record<string, unknown>; price: Record<string, unknown> };
  let plus: { product: Record<string, unknown>; price: Record<string, unknown> };
  const stripeEnv = () => ({
    STRIPE_SECRET_KEY: FAKE_STRIPE_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: FAKE_WEBHOOK_SECRET,
    STRIPE_API_URL: fake.url,
  });

  beforeAll(async () => {
    fake = await startFakeStripe();
    base = fake.createPlan({ name: 'Base', amount: 800, trialDays: 7 });
    plus = fake.createPlan({ name: 'Plus', amount: 1200, trialDays: 7 });
    t = await createTestApp({ env: stripeEnv() });
    stripe = new Stripe(FAKE_STRIPE_SECRET_KEY, stripeOptions(new URL(fake.url)));
  });

  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  /** A team with a Stripe customer, as the first checkout leaves it. */
  async function teamWithCustomer(name = 'Billing team') {
    const customer = await stripe.customers.create({ name });
    const [team] = await t.db
      .insert(teams)
      .values({ name, stripeCustomerId: customer.id })
      .returning();
    return { team: team!, customerId: customer.id };
  }

  const teamRow = async (id: number) =>
    (await t.db.select().from(teams).where(eq(teams.id, id)))[0]!;
  const eventRows = (id: string) => t.db.select().from(stripeEvents).where(eq(stripeEvents.id, id));
  const billingFields = (team: Awaited<ReturnType<typeof teamRow>>) => ({
    stripeSubscriptionId: team.stripeSubscriptionId,
    stripeProductId: team.stripeProductId,
    planName: team.planName,
    subscriptionStatus: team.subscriptionStatus,
  });

  function deliver(
    event: Record<string, unknown>,
    options: { secret?: string; timestamp?: number } = {},
  ) {
    const { payload, header } = fake.sign(event, options);
    return t.http
      .post(WEBHOOK)
      .set('Content-Type', 'application/json')
      .set('Stripe-Signature', header)
      .send(payload);
  }

  const subscriptionEvent = (
    type: 'created' | 'updated' | 'deleted',
    subscription: Record<string, unknown>,
    created?: number,
  ) => fake.event(`customer.subscription.${type}`, subscription, { created });

  describe('signature', () => {
    it('400 without Stripe-Signature, nothing written', async () => {
      const { team, customerId } = await teamWithCustomer();
      const event = subscriptionEvent(
        'created',
        fake.createSubscription(customerId, base.price.id as string, 'trialing'),
      );
      const res = await t.http
        .post(WEBHOOK)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify(event))
        .expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, code: 'billing.invalid_signature' });
      expect(await eventRows(event.id as string)).toEqual([]);
      expect((await teamRow(team.id)).subscriptionStatus).toBeNull();
    });

    it.each([
      ['signed with another secret', { secret: 'whsec_someone_else_entirely_000000' }],
      ['stale (signed 10 minutes ago)', { timestamp: Math.floor(Date.now() / 1000) - 600 }],
    ])('400 when %s, nothing written', async (_label, options) => {
      const { team, customerId } = await teamWithCustomer();
      const event = subscriptionEvent(
        'created',
        fake.createSubscription(customerId, base.price.id as string, 'trialing'),
      );
      const res = await deliver(event, options).expect(400);
      expect(res.body.code).toBe('billing.invalid_signature');
      expect(await eventRows(event.id as string)).toEqual([]);
      expect((await teamRow(team.id)).subscriptionStatus).toBeNull();
    });

    it('400 for a tampered body, nothing written', async () => {
      const { team, customerId } = await teamWithCustomer();
      const event = subscriptionEvent(
        'created',
        fake.createSubscription(customerId, base.price.id as string, 'trialing'),
      );
      const { payload, header } = fake.sign(event);
      const tampered = payload.replace('"trialing"', '"active"');
      expect(tampered).not.toBe(payload);
      await t.http
        .post(WEBHOOK)
        .set('Content-Type', 'application/json')
        .set('Stripe-Signature', header)
        .send(tampered)
        .expect(400);
      expect(await eventRows(event.id as string)).toEqual([]);
      expect((await teamRow(team.id)).subscriptionStatus).toBeNull();
    });

    it('verifies the raw bytes: the same JSON re-serialized fails', async () => {
      const { team, customerId } = await teamWithCustomer();
      const event = subscriptionEvent(
        'created',
        fake.createSubscription(customerId, base.price.id as string, 'trialing'),
      );
      const { payload, header } = fake.sign(event);
      const reserialized = JSON.stringify(JSON.parse(payload));
      expect(JSON.parse(reserialized)).toEqual(JSON.parse(payload));
      await t.http
        .post(WEBHOOK)
        .set('Content-Type', 'application/json')
        .set('Stripe-Signature', header)
        .send(reserialized)
        .expect(400);
      expect(await eventRows(event.id as string)).toEqual([]);

      // The original bytes with the same header are accepted.
      const ok = await t.http
        .post(WEBHOOK)
        .set('Content-Type', 'application/json; charset=utf-8')
        .set('Stripe-Signature', header)
        .send(payload)
        .expect(200);
      expect(ok.body).toEqual({ received: true, outcome: 'applied' });
      expect((await teamRow(team.id)).subscriptionStatus).toBe('trialing');
    });
  });

  describe('subscription events', () => {
    it.each<SubscriptionStatus>([
      'trialing',
      'active',
      'past_due',
      'unpaid',
      'paused',
      'incomplete',
    ])('maps status %s onto the team with the product name', async (status) => {
      const { team, customerId } = await teamWithCustomer();
      const sub = fake.createSubscription(customerId, plus.price.id as string, status);
      const event = subscriptionEvent('updated', sub);
      const res = await deliver(event).expect(200);
      expect(res.body).toEqual({ received: true, outcome: 'applied' });
      expect(billingFields(await teamRow(team.id))).toEqual({
        stripeSubscriptionId: sub.id,
        stripeProductId: plus.product.id,
        planName: 'Plus',
        subscriptionStatus: status,
      });
      const [row] = await eventRows(event.id as string);
      expect(row).toMatchObject({
        type: 'customer.subscription.updated',
        stripeCustomerId: customerId,
        teamId: team.id,
        createdAt: new Date((event.created as number) * 1000),
      });
    });

    it.each<SubscriptionStatus>(['canceled', 'incomplete_expired'])(
      'maps ended status %s: subscription id kept, no plan',
      async (status) => {
        const { team, customerId } = await teamWithCustomer();
        const sub = fake.createSubscription(customerId, plus.price.id as string, 'active');
        await deliver(subscriptionEvent('created', sub, 1_000)).expect(200);
        fake.updateSubscription(sub.id as string, { status });
        const res = await deliver(
          subscriptionEvent(status === 'canceled' ? 'deleted' : 'updated', sub, 2_000),
        ).expect(200);
        expect(res.body.outcome).toBe('applied');
        expect(billingFields(await teamRow(team.id))).toEqual({
          stripeSubscriptionId: sub.id,
          stripeProductId: null,
          planName: null,
          subscriptionStatus: status,
        });
      },
    );

    it('a redelivered event answers 200 and changes nothing', async () => {
      const { team, customerId } = await teamWithCustomer();
      const sub = fake.createSubscription(customerId, base.price.id as string, 'active');
      const first = subscriptionEvent('updated', sub, 1_000);
      await deliver(first).expect(200);
      fake.updateSubscription(sub.id as string, { status: 'past_due' });
      await deliver(subscriptionEvent('updated', sub, 2_000)).expect(200);
      const before = await teamRow(team.id);

      const again = await deliver(first).expect(200);
      expect(again.body).toEqual({ received: true, outcome: 'duplicate' });
      const after = await teamRow(team.id);
      expect(after).toEqual(before);
      expect(after.subscriptionStatus).toBe('past_due');
      expect(await eventRows(first.id as string)).toHaveLength(1);
    });

    it('ten concurrent copies of one event are applied exactly once', async () => {
      const { team, customerId } = await teamWithCustomer();
      const sub = fake.createSubscription(customerId, plus.price.id as string, 'active');
      const event = subscriptionEvent('created', sub);
      const { payload, header } = fake.sign(event);
      const responses = await Promise.all(
        Array.from({ length: 10 }, () =>
          t.http
            .post(WEBHOOK)
            .set('Content-Type', 'application/json')
            .set('Stripe-Signature', header)
            .send(payload),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
      const outcomes = responses.map((r) => r.body.outcome as string).sort();
      expect(outcomes).toEqual(['applied', ...Array(9).fill('duplicate')]);
      expect(await eventRows(event.id as string)).toHaveLength(1);
      expect((await teamRow(team.id)).subscriptionStatus).toBe('active');
    });

    it('an older event delivered late does not overwrite newer state', async () => {
      const { team, customerId } = await teamWithCustomer();
      const sub = fake.createSubscription(customerId, plus.price.id as string, 'trialing');
      const older = subscriptionEvent('created', sub, 1_000);
      fake.updateSubscription(sub.id as string, { status: 'active' });
      const newer = subscriptionEvent('updated', sub, 1_060);

      await deliver(newer).expect(200);
      const late = await deliver(older).expect(200);
      expect(late.body.outcome).toBe('stale');
      expect((await teamRow(team.id)).subscriptionStatus).toBe('active');
      // Recorded (so a redelivery is a duplicate) but not as applied to the team.
      expect(await eventRows(older.id as string)).toEqual([
        expect.objectContaining({ teamId: null, stripeCustomerId: customerId }),
      ]);
      expect((await deliver(older).expect(200)).body.outcome).toBe('duplicate');
    });

    it('same-second events: the later delivery wins, but a canceled subscription stays canceled', async () => {
      const { team, customerId } = await teamWithCustomer();
      const sub = fake.createSubscription(customerId, plus.price.id as string, 'active');
      await deliver(subscriptionEvent('created', sub, 5_000)).expect(200);
      fake.updateSubscription(sub.id as string, { status: 'past_due' });
      const tie = await deliver(subscriptionEvent('updated', sub, 5_000)).expect(200);
      expect(tie.body.outcome).toBe('applied');
      expect((await teamRow(team.id)).subscriptionStatus).toBe('past_due');

      const activeSnapshot = { ...structuredClone(sub), status: 'active' };
      fake.updateSubscription(sub.id as string, { status: 'canceled' });
      await deliver(subscriptionEvent('deleted', sub, 5_001)).expect(200);
      const revive = await deliver(subscriptionEvent('updated', activeSnapshot, 5_001)).expect(200);
      expect(revive.body.outcome).toBe('subscription_ended');
      expect((await teamRow(team.id)).subscriptionStatus).toBe('canceled');
    });

    it("a previous subscription's cancellation does not replace the new live one", async () => {
      const { team, customerId } = await teamWithCustomer();
      const old = fake.createSubscription(customerId, base.price.id as string, 'active');
      const current = fake.createSubscription(customerId, plus.price.id as string, 'active');
      await deliver(subscriptionEvent('created', current, 7_000)).expect(200);
      fake.updateSubscription(old.id as string, { status: 'canceled' });
      const res = await deliver(subscriptionEvent('deleted', old, 7_100)).expect(200);
      expect(res.body.outcome).toBe('other_subscription_ended');
      expect(billingFields(await teamRow(team.id))).toMatchObject({
        stripeSubscriptionId: current.id,
        planName: 'Plus',
        subscriptionStatus: 'active',
      });
    });

    it('an unknown customer answers 200 and changes nothing', async () => {
      const customer = await stripe.customers.create({ name: 'not ours' });
      const event = subscriptionEvent(
        'created',
        fake.createSubscription(customer.id, base.price.id as string),
      );
      const res = await deliver(event).expect(200);
      expect(res.body).toEqual({ received: true, outcome: 'unknown_customer' });
      expect(await eventRows(event.id as string)).toEqual([]);
      expect(
        await t.db.select().from(teams).where(eq(teams.stripeCustomerId, customer.id)),
      ).toEqual([]);
    });

    it('other event types answer 200 and are not recorded', async () => {
      const event = fake.event('invoice.paid', { id: 'in_123', object: 'invoice' });
      const res = await deliver(event).expect(200);
      expect(res.body).toEqual({ received: true, outcome: 'ignored' });
      expect(await eventRows(event.id as string)).toEqual([]);
    });
  });

  describe('checkout.session.completed', () => {
    it('links the subscription to the team from a fresh read of the subscription', async () => {
      const { team, customerId } = await teamWithCustomer();
      const session = await stripe.checkout.sessions.create({
        mode: 'subscription',
        customer: customerId,
        client_reference_id: String(team.id),
        metadata: { teamId: String(team.id) },
        line_items: [{ price: base.price.id as string, quantity: 1 }],
        subscription_data: { trial_period_days: 7 },
        success_url: 'http://app.test/ok',
      });
      const sub = fake.completeCheckout(session.id);
      const event = fake.event(
        'checkout.session.completed',
        fake.checkoutSessions.get(session.id)!,
      );
      const res = await deliver(event).expect(200);
      expect(res.body.outcome).toBe('applied');
      expect(billingFields(await teamRow(team.id))).toEqual({
        stripeSubscriptionId: sub.id,
        stripeProductId: base.product.id,
        planName: 'Base',
        subscriptionStatus: 'trialing',
      });
    });

    it("ignores a session whose team does not own the session's customer", async () => {
      const a = await teamWithCustomer('A');
      const b = await teamWithCustomer('B');
      const session = await stripe.checkout.sessions.create({
        mode: 'subscription',
        customer: a.customerId,
        client_reference_id: String(b.team.id),
        metadata: { teamId: String(b.team.id) },
        line_items: [{ price: base.price.id as string }],
        success_url: 'http://app.test/ok',
      });
      fake.completeCheckout(session.id);
      const event = fake.event(
        'checkout.session.completed',
        fake.checkoutSessions.get(session.id)!,
      );
      expect((await deliver(event).expect(200)).body.outcome).toBe('unknown_customer');
      expect((await teamRow(a.team.id)).subscriptionStatus).toBeNull();
      expect((await teamRow(b.team.id)).subscriptionStatus).toBeNull();
    });
  });

  describe('GET /billing/plans', () => {
    it('lists active products with their default recurring price, cached', async () => {
      const archived = fake.createPlan({ name: 'Archived', amount: 500, active: false });
      const before = fake.count('GET', '/v1/prices');
      const res = await t.http.get('/api/v1/billing/plans').expect(200);
      const ours = (res.body as { priceId: string }[]).filter((p) =>
        [base.price.id, plus.price.id, archived.price.id].includes(p.priceId),
      );
      expect(ours).toEqual([
        {
          productId: base.product.id,
          name: 'Base',
          priceId: base.price.id,
          amount: 800,
          currency: 'usd',
          interval: 'month',
          trialDays: 7,
          perSeat: false,
        },
        {
          productId: plus.product.id,
          name: 'Plus',
          priceId: plus.price.id,
          amount: 1200,
          currency: 'usd',
          interval: 'month',
          trialDays: 7,
          perSeat: false,
        },
      ]);
      await t.http.get('/api/v1/billing/plans').expect(200);
      expect(fake.count('GET', '/v1/prices') - before).toBe(1);
    });
  });

  describe('GET /billing/checkout/success', () => {
    async function completedSession(teamId: number, customerId: string, complete = true) {
      const session = await stripe.checkout.sessions.create({
        mode: 'subscription',
        customer: customerId,
        client_reference_id: String(teamId),
        metadata: { teamId: String(teamId) },
        line_items: [{ price: plus.price.id as string, quantity: 1 }],
        success_url: 'http://app.test/ok',
      });
      const sub = complete ? fake.completeCheckout(session.id) : undefined;
      return { session, sub };
    }

    it('303 to the frontend and the team has its subscription', async () => {
      const { team, customerId } = await teamWithCustomer();
      const { session, sub } = await completedSession(team.id, customerId);
      const res = await t.http
        .get('/api/v1/billing/checkout/success')
        .query({ session_id: session.id })
        .expect(303);
      expect(res.headers.location).toBe(
        `http://app.test/teams/${team.id}/billing?checkout=success`,
      );
      expect(billingFields(await teamRow(team.id))).toEqual({
        stripeSubscriptionId: sub!.id,
        stripeProductId: plus.product.id,
        planName: 'Plus',
        subscriptionStatus: 'active',
      });
    });

    it('does not overwrite a newer webhook state', async () => {
      const { team, customerId } = await teamWithCustomer();
      const { session, sub } = await completedSession(team.id, customerId);
      fake.updateSubscription(sub!.id as string, { status: 'past_due' });
      await deliver(subscriptionEvent('updated', sub!, Math.floor(Date.now() / 1000) + 120)).expect(
        200,
      );
      fake.updateSubscription(sub!.id as string, { status: 'active' });
      await t.http
        .get('/api/v1/billing/checkout/success')
        .query({ session_id: session.id })
        .expect(303);
      expect((await teamRow(team.id)).subscriptionStatus).toBe('past_due');
    });

    it('400 for a missing or malformed session id', async () => {
      const missing = await t.http.get('/api/v1/billing/checkout/success').expect(400);
      expect(missing.body.code).toBe('request.invalid');
      const bad = await t.http
        .get('/api/v1/billing/checkout/success')
        .query({ session_id: "x'; drop" })
        .expect(400);
      expect(bad.body.details).toEqual([expect.objectContaining({ field: 'session_id' })]);
    });

    it('404 for an unknown session, 409 for an incomplete one', async () => {
      const res = await t.http
        .get('/api/v1/billing/checkout/success')
        .query({ session_id: 'cs_test_doesnotexist' })
        .expect(404);
      expect(res.body).toMatchObject({
        statusCode: 404,
        code: 'billing.checkout_session_not_found',
      });

      const { team, customerId } = await teamWithCustomer();
      const { session } = await completedSession(team.id, customerId, false);
      const open = await t.http
        .get('/api/v1/billing/checkout/success')
        .query({ session_id: session.id })
        .expect(409);
      expect(open.body.code).toBe('billing.checkout_incomplete');
      expect((await teamRow(team.id)).subscriptionStatus).toBeNull();
    });

    it("404 when the session's team does not own its customer; neither team changes", async () => {
      const a = await teamWithCustomer('A');
      const b = await teamWithCustomer('B');
      const { session } = await completedSession(b.team.id, a.customerId);
      await t.http
        .get('/api/v1/billing/checkout/success')
        .query({ session_id: session.id })
        .expect(404);
      expect((await teamRow(a.team.id)).subscriptionStatus).toBeNull();
      expect((await teamRow(b.team.id)).subscriptionStatus).toBeNull();
    });
  });

  it('answers 5xx (never 2xx) when the database is unavailable, and Stripe can retry', async () => {
    const broken = await createTestApp({ env: stripeEnv() });
    try {
      const { team, customerId } = await teamWithCustomer();
      const event = subscriptionEvent(
        'created',
        fake.createSubscription(customerId, base.price.id as string, 'trialing'),
      );
      await broken.app.get<{ end(): Promise<void> }>(PG_POOL).end();
      const { payload, header } = fake.sign(event);
      const res = await broken.http
        .post(WEBHOOK)
        .set('Content-Type', 'application/json')
        .set('Stripe-Signature', header)
        .send(payload);
      expect(res.status).toBeGreaterThanOrEqual(500);
      expect(await eventRows(event.id as string)).toEqual([]);
      // The retry, on a healthy instance, is applied.
      expect((await deliver(event).expect(200)).body.outcome).toBe('applied');
      expect((await teamRow(team.id)).subscriptionStatus).toBe('trialing');
    } finally {
      await broken.close().catch(() => undefined);
    }
  });
});

describe('billing without STRIPE_SECRET_KEY', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  it.each([
    ['GET', '/api/v1/billing/plans'],
    ['GET', '/api/v1/billing/checkout/success?session_id=cs_test_abc'],
    ['POST', WEBHOOK],
  ])('%s %s answers 503 billing.not_configured', async (method, path) => {
    const req =
      method === 'GET'
        ? t.http.get(path)
        : t.http.post(path).set('Stripe-Signature', 't=1,v1=x').send({});
    const res = await req.expect(503);
    expect(res.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'billing.not_configured',
      message: 'Billing is not configured on this server',
    });
  });

  it('the rest of the app works', async () => {
    await t.http.get('/health/ready').expect(200);
    await t.http.get('/docs-json').expect(200);
  });
});
