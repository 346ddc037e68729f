import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq } from 'drizzle-orm';
import Stripe from 'stripe';
import { stripeEvents, teamMembers, teams, users } from '../../src/database/schema.js';
import { stripeOptions } from '../../src/modules/billing/stripe.client.js';
import { activityRows } from '../support/activity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, signUp, type SignedUp } from '../support/auth.js';
import {
  FAKE_STRIPE_SECRET_KEY,
  FAKE_WEBHOOK_SECRET,
  startFakeStripe,
  type FakeStripe,
} from '../support/fake-stripe.js';
import { startSmtpCapture, type SmtpCapture } from '../support/smtp.js';

type Json = Record<string, unknown>;
const WEBHOOK = '/api/v1/billing/webhook';

describe('billing: seats at checkout, entitlements, invoices, cancel/resume, dunning mails', () => {
  let fake: FakeStripe;
  let smtp: SmtpCapture;
  let t: TestApp;
  let stripe: Stripe;
  let teamPlan: { product: Json; price: Json };
  let soloPlan: { product: Json; price: Json };

  beforeAll(async () => {
    fake = await startFakeStripe();
    smtp = await startSmtpCapture();
    teamPlan = fake.createPlan({
      name: 'Team',
      amount: 900,
      perSeat: true,
      productMetadata: { max_members: '10' },
      features: ['sso', 'audit_export'],
    });
    soloPlan = fake.createPlan({ name: 'Solo', amount: 500, trialDays: 14 });
    t = await createTestApp({
      env: {
        STRIPE_SECRET_KEY: FAKE_STRIPE_SECRET_KEY,
        STRIPE_WEBHOOK_SECRET: FAKE_WEBHOOK_SECRET,
        STRIPE_API_URL: fake.url,
        SMTP_URL: smtp.url,
        APP_URL: 'https://app.example.test',
      },
    });
    stripe = new Stripe(FAKE_STRIPE_SECRET_KEY, stripeOptions(new URL(fake.url)));
  });

  afterAll(async () => {
    await t.close();
    await smtp.close();
    await fake.close();
  });

  const teamRow = async (id: number) =>
    (await t.db.select().from(teams).where(eq(teams.id, id)))[0]!;

  async function addMember(owner: SignedUp, role: 'member' | 'owner' = 'member') {
    const member = await signUp(t);
    await t.db.insert(teamMembers).values({ teamId: owner.team.id, userId: member.user.id, role });
    return member;
  }

  /** The owner's team with a Stripe customer (as its first checkout leaves it). */
  async function withCustomer(owner: SignedUp) {
    const customer = await stripe.customers.create({ name: owner.team.name });
    await t.db
      .update(teams)
      .set({ stripeCustomerId: customer.id })
      .where(eq(teams.id, owner.team.id));
    return customer.id;
  }

  /** ... and a live subscription to `plan`, as the subscription sync leaves the team. */
  async function withSubscription(
    owner: SignedUp,
    plan = soloPlan,
    status: 'active' | 'trialing' = 'active',
  ) {
    const customerId = await withCustomer(owner);
    const subscription = fake.createSubscription(customerId, plan.price.id as string, status);
    await t.db
      .update(teams)
      .set({
        stripeSubscriptionId: subscription.id as string,
        stripeProductId: plan.product.id as string,
        planName: plan.product.name as string,
        subscriptionStatus: status,
      })
      .where(eq(teams.id, owner.team.id));
    return { customerId, subscription };
  }

  function deliver(event: Json) {
    const { payload, header } = fake.sign(event);
    return t.http
      .post(WEBHOOK)
      .set('Content-Type', 'application/json')
      .set('Stripe-Signature', header)
      .send(payload);
  }

  describe('the Stripe fake keeps Stripe’s idempotency and failure behaviour', () => {
    it('same key and params replay the first answer; other params with it → 400 idempotency_error', async () => {
      const before = fake.customers.size;
      const key = `test-${Date.now()}`;
      const first = await stripe.customers.create({ name: 'Once' }, { idempotencyKey: key });
      const again = await stripe.customers.create({ name: 'Once' }, { idempotencyKey: key });
      expect(again.id).toBe(first.id);
      expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
      expect(fake.customers.size).toBe(before + 1);
      const other = await stripe.customers
        .create({ name: 'Twice' }, { idempotencyKey: key })
        .catch((e: unknown) => e);
      expect(other).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
      expect(other).toMatchObject({ statusCode: 400, type: 'StripeIdempotencyError' });
      expect(fake.customers.size).toBe(before + 1);
    });

    it("lists invoices newest first with Stripe's cursors both ways and its filters", async () => {
      const customer = await stripe.customers.create({ name: 'Cursor' });
      const sub = fake.createSubscription(customer.id, soloPlan.price.id as string);
      const t0 = Math.floor(Date.now() / 1000) - 5000;
      const ids = [0, 1, 2, 3, 4].map(
        (i) =>
          fake.createInvoice({
            customer: customer.id,
            created: t0 + i,
            ...(i % 2 === 0 && { subscription: sub.id as string }),
          }).id as string,
      );
      const newestFirst = [...ids].reverse();
      const page1 = await stripe.invoices.list({ customer: customer.id, limit: 2 });
      expect(page1.data.map((i) => i.id)).toEqual(newestFirst.slice(0, 2));
      expect(page1.has_more).toBe(true);
      const page2 = await stripe.invoices.list({
        customer: customer.id,
        limit: 2,
        starting_after: page1.data[1]!.id,
      });
      expect(page2.data.map((i) => i.id)).toEqual(newestFirst.slice(2, 4));
      const back = await stripe.invoices.list({
        customer: customer.id,
        limit: 1,
        ending_before: page2.data[0]!.id,
      });
      expect(back.data.map((i) => i.id)).toEqual([newestFirst[1]]);
      expect(back.has_more).toBe(true);
      const all = await stripe.invoices
        .list({ customer: customer.id, limit: 100 })
        .autoPagingToArray({ limit: 100 });
      expect(all.map((i) => i.id)).toEqual(newestFirst);
      const ofSubscription = await stripe.invoices.list({ subscription: sub.id as string });
      expect(ofSubscription.data.map((i) => i.id)).toEqual([ids[4], ids[2], ids[0]]);
      const both = await stripe.invoices
        .list({ customer: customer.id, starting_after: ids[1]!, ending_before: ids[3]! })
        .catch((e: unknown) => e);
      expect(both).toMatchObject({ statusCode: 400, code: 'parameter_invalid' });
    });

    it('injected failures: 500s (not saved under the key) and a hang that times out', async () => {
      const customer = await stripe.customers.create({ name: 'Flaky' });
      const sub = fake.createSubscription(customer.id, teamPlan.price.id as string);
      const itemId = (sub.items as { data: Json[] }).data[0]!.id as string;
      const path = `/v1/subscription_items/${itemId}`;
      fake.failNext('POST', path, { times: 1, with: 503 });
      // The SDK retries the 503 with the same key; the retry executes (nothing was saved).
      const updated = await stripe.subscriptionItems.update(
        itemId,
        { quantity: 4, proration_behavior: 'create_prorations' },
        { idempotencyKey: `flaky-${itemId}` },
      );
      expect(updated).toMatchObject({ object: 'subscription_item', id: itemId, quantity: 4 });
      const calls = fake.requests.filter((r) => r.path === path);
      expect(calls.map((r) => r.failedWith ?? 'ok')).toEqual([503, 'ok']);

      fake.failNext('GET', '/v1/invoices', { with: 'hang' });
      const hung = await stripe.invoices
        .list({ customer: customer.id }, { timeout: 300, maxNetworkRetries: 0 })
        .catch((e: unknown) => e);
      expect(hung).toBeInstanceOf(Stripe.errors.StripeConnectionError);

      const unknown = await stripe.subscriptionItems
        .update(itemId, { quantity: 2, price_data: { currency: 'usd' } } as never)
        .catch((e: unknown) => e);
      expect(unknown).toMatchObject({ statusCode: 400, code: 'parameter_unknown' });
    });
  });

  describe('per-seat checkout and entitlements', () => {
    it('a per-seat price is bought for the member count; completion reads the entitlements once', async () => {
      const owner = await signUp(t);
      await addMember(owner);
      await addMember(owner);
      const res = await t.http
        .post(`/api/v1/teams/${owner.team.id}/billing/checkout`)
        .set('Authorization', bearer(owner.accessToken))
        .send({ priceId: teamPlan.price.id })
        .expect(200);
      const create = fake.requests.filter((r) => r.path === '/v1/checkout/sessions').at(-1)!;
      expect(create.params.line_items).toEqual([{ price: teamPlan.price.id, quantity: '3' }]);

      const session = [...fake.checkoutSessions.values()].find((s) =>
        (res.body as { url: string }).url.includes(s.id as string),
      )!;
      const subscription = fake.completeCheckout(session.id as string);
      expect((subscription.items as { data: Json[] }).data[0]!.quantity).toBe(3);
      const customer = session.customer as string;
      const reads = () =>
        fake.requests.filter(
          (r) =>
            r.path === '/v1/entitlements/active_entitlements' && r.params.customer === customer,
        ).length;
      expect(reads()).toBe(0);
      await t.http
        .get(`/api/v1/billing/checkout/success?session_id=${session.id as string}`)
        .expect(303);
      expect(reads()).toBe(1);
      const team = await teamRow(owner.team.id);
      expect(team.features).toEqual(['audit_export', 'sso']);
      expect(team.featuresAsOf).toBeGreaterThan(0);
    });

    it('checkout.session.completed reads the entitlements once', async () => {
      const owner = await signUp(t);
      const customerId = await withCustomer(owner);
      const res = await t.http
        .post(`/api/v1/teams/${owner.team.id}/billing/checkout`)
        .set('Authorization', bearer(owner.accessToken))
        .send({ priceId: teamPlan.price.id })
        .expect(200);
      const session = [...fake.checkoutSessions.values()].find((s) =>
        (res.body as { url: string }).url.includes(s.id as string),
      )!;
      fake.completeCheckout(session.id as string);
      const event = fake.event('checkout.session.completed', session);
      expect((await deliver(event).expect(200)).body.outcome).toBe('applied');
      expect((await teamRow(owner.team.id)).features).toEqual(['audit_export', 'sso']);
      expect((await deliver(event).expect(200)).body.outcome).toBe('duplicate');
      expect(
        fake.requests.filter(
          (r) =>
            r.path === '/v1/entitlements/active_entitlements' && r.params.customer === customerId,
        ),
      ).toHaveLength(1);
    });

    it('a member leaving through the API brings the per-seat quantity down (seat job)', async () => {
      const owner = await signUp(t);
      const member = await addMember(owner);
      const customerId = await withCustomer(owner);
      const subscription = fake.createSubscription(
        customerId,
        teamPlan.price.id as string,
        'active',
        2,
      );
      const item = (subscription.items as { data: Json[] }).data[0]!;
      // The columns the subscription sync keeps (plans module).
      await t.db
        .update(teams)
        .set({
          stripeSubscriptionId: subscription.id as string,
          subscriptionStatus: 'active',
          perSeat: true,
          stripeSubscriptionItemId: item.id as string,
        })
        .where(eq(teams.id, owner.team.id));
      const [membership] = await t.db
        .select()
        .from(teamMembers)
        .where(and(eq(teamMembers.userId, member.user.id), eq(teamMembers.teamId, owner.team.id)));
      await t.http
        .delete(`/api/v1/teams/${owner.team.id}/members/${membership!.id}`)
        .set('Authorization', bearer(member.accessToken))
        .expect(204);
      const until = Date.now() + 20_000;
      while ((await teamRow(owner.team.id)).seatsBilled !== 1 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(item.quantity).toBe(1);
      expect(await teamRow(owner.team.id)).toMatchObject({
        membershipVersion: 1,
        seatsBilled: 1,
        seatsBilledVersion: 1,
      });
    });

    it('the summary event stores the features; older events lose, redeliveries and strangers change nothing', async () => {
      const owner = await signUp(t);
      const { customerId, subscription } = await withSubscription(owner, teamPlan);
      const at = Math.floor(Date.now() / 1000);
      const summary = fake.activeEntitlementSummary(customerId);
      expect(summary).toMatchObject({
        object: 'entitlements.active_entitlement_summary',
        customer: customerId,
        entitlements: { object: 'list', has_more: false },
      });
      const event = fake.event('entitlements.active_entitlement_summary.updated', summary, {
        created: at,
      });
      expect((await deliver(event).expect(200)).body).toEqual({
        received: true,
        outcome: 'applied',
      });
      expect((await teamRow(owner.team.id)).features).toEqual(['audit_export', 'sso']);
      expect((await deliver(event).expect(200)).body.outcome).toBe('duplicate');
      expect(
        await t.db
          .select()
          .from(stripeEvents)
          .where(eq(stripeEvents.id, event.id as string)),
      ).toEqual([expect.objectContaining({ teamId: null, stripeCustomerId: customerId })]);

      // Stripe drops a feature; then an older summary (with both) arrives late.
      fake.detachFeature(teamPlan.product.id as string, 'audit_export');
      const newer = fake.event(
        'entitlements.active_entitlement_summary.updated',
        fake.activeEntitlementSummary(customerId),
        { created: at + 10 },
      );
      expect((await deliver(newer).expect(200)).body.outcome).toBe('applied');
      const older = fake.event('entitlements.active_entitlement_summary.updated', summary, {
        created: at + 5,
      });
      expect((await deliver(older).expect(200)).body.outcome).toBe('stale');
      const team = await teamRow(owner.team.id);
      expect(team.features).toEqual(['sso']);
      expect(team.featuresAsOf).toBe(at + 10);
      fake.attachFeature(teamPlan.product.id as string, 'audit_export');

      // The subscription ends: the summary lists nothing.
      fake.updateSubscription(subscription.id as string, { status: 'canceled' });
      const none = fake.event(
        'entitlements.active_entitlement_summary.updated',
        fake.activeEntitlementSummary(customerId),
        { created: at + 20 },
      );
      expect((await deliver(none).expect(200)).body.outcome).toBe('applied');
      expect((await teamRow(owner.team.id)).features).toEqual([]);

      const stranger = await stripe.customers.create({ name: 'Not ours' });
      const foreign = fake.event(
        'entitlements.active_entitlement_summary.updated',
        fake.activeEntitlementSummary(stranger.id),
      );
      expect((await deliver(foreign).expect(200)).body.outcome).toBe('unknown_customer');
    });
  });

  describe('GET /teams/:teamId/billing/invoices', () => {
    const list = (who: SignedUp, query = '') =>
      t.http
        .get(`/api/v1/teams/${who.team.id}/billing/invoices${query}`)
        .set('Authorization', bearer(who.accessToken));

    it('a team without a Stripe customer has none', async () => {
      const owner = await signUp(t);
      expect((await list(owner).expect(200)).body).toEqual({ items: [], nextCursor: null });
    });

    it("pages through the customer's invoices newest first with Stripe's cursor", async () => {
      const owner = await signUp(t);
      const customerId = await withCustomer(owner);
      const t0 = Math.floor(Date.now() / 1000) - 1000;
      const created = [0, 1, 2, 3, 4].map((i) =>
        fake.createInvoice({
          customer: customerId,
          created: t0 + i * 100,
          amountDue: 900 + i,
          status: i === 4 ? 'open' : 'paid',
        }),
      );
      const other = await stripe.customers.create({ name: 'Other' });
      fake.createInvoice({ customer: other.id });

      const first = (await list(owner, '?limit=2').expect(200)).body as {
        items: Json[];
        nextCursor: string | null;
      };
      expect(first.items).toEqual([
        {
          id: created[4]!.id,
          number: created[4]!.number,
          status: 'open',
          amountDue: 904,
          amountPaid: 0,
          currency: 'usd',
          createdAt: new Date((t0 + 400) * 1000).toISOString(),
          hostedInvoiceUrl: created[4]!.hosted_invoice_url,
          invoicePdf: created[4]!.invoice_pdf,
        },
        expect.objectContaining({ id: created[3]!.id, status: 'paid', amountPaid: 903 }),
      ]);
      expect(first.nextCursor).toEqual(expect.any(String));
      const second = (await list(owner, `?limit=2&cursor=${first.nextCursor!}`).expect(200)).body;
      expect(second.items.map((i: Json) => i.id)).toEqual([created[2]!.id, created[1]!.id]);
      const third = (
        await list(owner, `?limit=2&cursor=${second.nextCursor as string}`).expect(200)
      ).body;
      expect(third).toEqual({
        items: [expect.objectContaining({ id: created[0]!.id })],
        nextCursor: null,
      });
      const call = fake.requests.filter((r) => r.path === '/v1/invoices').at(-1)!;
      expect(call.params).toEqual({
        customer: customerId,
        limit: '2',
        starting_after: created[1]!.id,
      });
    });

    it('400 for a cursor that is not ours, 403 for a member, 502 quickly when Stripe fails', async () => {
      const owner = await signUp(t);
      await withCustomer(owner);
      const bad = await list(
        owner,
        `?cursor=${Buffer.from('cus_123').toString('base64url')}`,
      ).expect(400);
      expect(bad.body.code).toBe('request.invalid_cursor');
      const member = await addMember(owner);
      const forbidden = await t.http
        .get(`/api/v1/teams/${owner.team.id}/billing/invoices`)
        .set('Authorization', bearer(member.accessToken))
        .expect(403);
      expect(forbidden.body.code).toBe('team.forbidden');

      fake.failNext('GET', '/v1/invoices', { times: 2, with: 500 });
      const started = Date.now();
      const down = await list(owner).expect(502);
      expect(down.body).toMatchObject({ statusCode: 502, code: 'billing.stripe_unavailable' });
      expect(Date.now() - started).toBeLessThan(5_000);
    });
  });

  describe('POST /teams/:teamId/billing/cancel and /resume', () => {
    const post = (who: SignedUp, teamId: number, action: 'cancel' | 'resume') =>
      t.http
        .post(`/api/v1/teams/${teamId}/billing/${action}`)
        .set('Authorization', bearer(who.accessToken))
        .send();

    it('409 without a live subscription', async () => {
      const owner = await signUp(t);
      for (const action of ['cancel', 'resume'] as const) {
        const res = await post(owner, owner.team.id, action).expect(409);
        expect(res.body.code).toBe('billing.no_live_subscription');
      }
      await withSubscription(owner);
      await t.db
        .update(teams)
        .set({ subscriptionStatus: 'canceled' })
        .where(eq(teams.id, owner.team.id));
      expect((await post(owner, owner.team.id, 'cancel').expect(409)).body.code).toBe(
        'billing.no_live_subscription',
      );
    });

    it('cancels at the period end and resumes, each logged once; 409 resuming without a pending cancel', async () => {
      const owner = await signUp(t);
      const { subscription } = await withSubscription(owner);
      const noPending = await post(owner, owner.team.id, 'resume').expect(409);
      expect(noPending.body.code).toBe('billing.no_pending_cancel');

      const canceled = await post(owner, owner.team.id, 'cancel').expect(200);
      expect(canceled.body).toMatchObject({
        plan: { productId: soloPlan.product.id, name: 'Solo' },
        status: 'active',
        cancelAtPeriodEnd: true,
        perSeat: false,
        seats: { used: 1 },
        features: [],
      });
      expect(subscription).toMatchObject({
        cancel_at_period_end: true,
        cancel_at: expect.any(Number),
      });
      expect((await teamRow(owner.team.id)).cancelAtPeriodEnd).toBe(true);
      // Again: 200, nothing new logged.
      await post(owner, owner.team.id, 'cancel').expect(200);
      const cancels = await activityRows(t.db, {
        teamId: owner.team.id,
        action: 'CANCEL_SUBSCRIPTION',
      });
      expect(cancels).toEqual([expect.objectContaining({ userId: owner.user.id })]);

      const resumed = await post(owner, owner.team.id, 'resume').expect(200);
      expect(resumed.body).toMatchObject({ cancelAtPeriodEnd: false, status: 'active' });
      expect(subscription).toMatchObject({ cancel_at_period_end: false, cancel_at: null });
      expect((await teamRow(owner.team.id)).cancelAtPeriodEnd).toBe(false);
      expect(
        await activityRows(t.db, { teamId: owner.team.id, action: 'RESUME_SUBSCRIPTION' }),
      ).toEqual([expect.objectContaining({ userId: owner.user.id })]);
      expect((await post(owner, owner.team.id, 'resume').expect(409)).body.code).toBe(
        'billing.no_pending_cancel',
      );
    });

    it('403 for a member; nothing changes at Stripe', async () => {
      const owner = await signUp(t);
      const { subscription } = await withSubscription(owner);
      const member = await addMember(owner);
      const res = await post(member, owner.team.id, 'cancel').expect(403);
      expect(res.body.code).toBe('team.forbidden');
      expect(subscription.cancel_at_period_end).toBe(false);
    });
  });

  describe('dunning and trial mails', () => {
    const mailsTo = (email: string) => smtp.messages.filter((m) => m.to.includes(email));

    it('invoice.payment_failed mails each owner once per invoice, in their language', async () => {
      const owner = await signUp(t, { name: 'Ada' });
      const second = await addMember(owner, 'owner');
      const member = await addMember(owner);
      await t.db.update(users).set({ locale: 'de' }).where(eq(users.id, second.user.id));
      const { customerId, subscription } = await withSubscription(owner);
      const invoice = fake.createInvoice({
        customer: customerId,
        subscription: subscription.id as string,
        amountDue: 1200,
        status: 'open',
      });
      fake.failInvoicePayment(invoice.id as string);
      const event = fake.event('invoice.payment_failed', invoice);
      expect((await deliver(event).expect(200)).body.outcome).toBe('applied');
      expect((await deliver(event).expect(200)).body.outcome).toBe('duplicate');
      // Stripe's next attempt fails too: a new event for the same invoice.
      const retry = fake.event(
        'invoice.payment_failed',
        fake.failInvoicePayment(invoice.id as string),
      );
      expect((await deliver(retry).expect(200)).body.outcome).toBe('already_notified');

      const english = await smtp.waitForMail(owner.email, { subject: 'Payment failed' });
      expect(english.text).toContain(invoice.number);
      expect(english.text).toContain('$12.00');
      expect(english.text).toContain(invoice.hosted_invoice_url);
      const german = await smtp.waitForMail(second.email, { subject: 'fehlgeschlagen' });
      expect(german.text).toContain('Rechnung bezahlen');
      // Give a second mail the time it would need to show up.
      await new Promise((r) => setTimeout(r, 2500));
      expect(mailsTo(owner.email).filter((m) => /Payment failed/.test(m.subject))).toHaveLength(1);
      expect(mailsTo(second.email).filter((m) => /fehlgeschlagen/.test(m.subject))).toHaveLength(1);
      // The member got only the sign-up's verification mail.
      expect(mailsTo(member.email).map((m) => m.subject)).toEqual(['Verify your email address']);
    });

    it('events for a customer no team has are acknowledged and send nothing', async () => {
      const stranger = await stripe.customers.create({ name: 'Not ours', email: 'x@example.test' });
      const invoice = fake.createInvoice({ customer: stranger.id, status: 'open' });
      const event = fake.event(
        'invoice.payment_failed',
        fake.failInvoicePayment(invoice.id as string),
      );
      expect((await deliver(event).expect(200)).body).toEqual({
        received: true,
        outcome: 'unknown_customer',
      });
      expect(
        await t.db
          .select()
          .from(stripeEvents)
          .where(eq(stripeEvents.id, event.id as string)),
      ).toEqual([]);
    });

    it('customer.subscription.trial_will_end sends the owners a notice, once', async () => {
      const owner = await signUp(t);
      const { subscription } = await withSubscription(owner, soloPlan, 'trialing');
      const trialEnd = Math.floor(Date.UTC(2027, 0, 15, 12) / 1000);
      subscription.trial_end = trialEnd;
      const event = fake.event('customer.subscription.trial_will_end', subscription);
      expect((await deliver(event).expect(200)).body.outcome).toBe('applied');
      expect((await deliver(event).expect(200)).body.outcome).toBe('duplicate');
      const mail = await smtp.waitForMail(owner.email, { subject: 'trial' });
      // The team's name, defanged as every name in a mail (no autolinked domain).
      expect(mail.subject).toBe(
        `The trial of ${owner.team.name.replace('example.test', 'example[.]test')} ends soon`,
      );
      expect(mail.text).toContain('January 15, 2027');
      expect(mail.text).toContain(`https://app.example.test/teams/${owner.team.id}/billing`);
    });
  });
});
