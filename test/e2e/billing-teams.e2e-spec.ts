import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import { teamMembers, teams, users } from '../../src/database/schema.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, signUp, type SignedUp } from '../support/auth.js';
import {
  FAKE_STRIPE_SECRET_KEY,
  FAKE_WEBHOOK_SECRET,
  startFakeStripe,
  type FakeStripe,
} from '../support/fake-stripe.js';

describe('billing: owner routes (checkout, portal)', () => {
  let fake: FakeStripe;
  let t: TestApp;
  let basePrice: string;
  let plusPrice: string;
  let archivedPrice: string;

  beforeAll(async () => {
    fake = await startFakeStripe();
    basePrice = fake.createPlan({ name: 'Base', amount: 800, trialDays: 7 }).price.id as string;
    plusPrice = fake.createPlan({ name: 'Plus', amount: 1200 }).price.id as string;
    archivedPrice = fake.createPlan({ name: 'Old', amount: 500, active: false }).price.id as string;
    t = await createTestApp({
      env: {
        STRIPE_SECRET_KEY: FAKE_STRIPE_SECRET_KEY,
        STRIPE_WEBHOOK_SECRET: FAKE_WEBHOOK_SECRET,
        STRIPE_API_URL: fake.url,
      },
    });
  });

  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  const teamRow = async (id: number) =>
    (await t.db.select().from(teams).where(eq(teams.id, id)))[0]!;

  async function addMember(owner: SignedUp, role: 'member' | 'owner' = 'member') {
    const member = await signUp(t);
    await t.db.insert(teamMembers).values({ teamId: owner.team.id, userId: member.user.id, role });
    return member;
  }

  const checkout = (who: SignedUp, teamId: number, priceId: string) =>
    t.http
      .post(`/api/v1/teams/${teamId}/billing/checkout`)
      .set('Authorization', bearer(who.accessToken))
      .send({ priceId });
  const portal = (who: SignedUp, teamId: number) =>
    t.http
      .post(`/api/v1/teams/${teamId}/billing/portal`)
      .set('Authorization', bearer(who.accessToken))
      .send();

  it('creates a subscription Checkout session for the team, with a new customer', async () => {
    const owner = await signUp(t);
    const res = await checkout(owner, owner.team.id, basePrice).expect(200);
    expect(res.body).toEqual({
      url: expect.stringMatching(/^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/),
    });

    const team = await teamRow(owner.team.id);
    expect(team.stripeCustomerId).toMatch(/^cus_/);
    expect(fake.customers.get(team.stripeCustomerId!)).toMatchObject({
      email: owner.email,
      metadata: { teamId: String(owner.team.id) },
    });
    const session = [...fake.checkoutSessions.values()].find((s) =>
      res.body.url.includes(s.id as string),
    )!;
    expect(session).toMatchObject({
      mode: 'subscription',
      customer: team.stripeCustomerId,
      client_reference_id: String(owner.team.id),
      metadata: { teamId: String(owner.team.id), userId: String(owner.user.id) },
      success_url:
        'http://app.test/api/v1/billing/checkout/success?session_id={CHECKOUT_SESSION_ID}',
      cancel_url: `http://app.test/teams/${owner.team.id}/billing?checkout=canceled`,
    });
    const create = fake.requests
      .filter((r) => r.method === 'POST' && r.path === '/v1/checkout/sessions')
      .at(-1)!;
    expect(create.params).toMatchObject({
      line_items: [{ price: basePrice, quantity: '1' }],
      subscription_data: { trial_period_days: '7', metadata: { teamId: String(owner.team.id) } },
    });
    expect(team.subscriptionStatus).toBeNull();
  });

  it('reuses the customer, and concurrent first checkouts create only one', async () => {
    const owner = await signUp(t);
    const before = fake.count('POST', '/v1/customers');
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => checkout(owner, owner.team.id, plusPrice)),
    );
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    await checkout(owner, owner.team.id, basePrice).expect(200);
    expect(fake.count('POST', '/v1/customers') - before).toBe(1);
    const { stripeCustomerId } = await teamRow(owner.team.id);
    const sessions = [...fake.checkoutSessions.values()].filter(
      (s) => s.client_reference_id === String(owner.team.id),
    );
    expect(sessions).toHaveLength(6);
    expect(new Set(sessions.map((s) => s.customer))).toEqual(new Set([stripeCustomerId]));
    // No trial configured on Plus: no trial_period_days sent.
    const plusCreate = fake.requests.find(
      (r) =>
        r.path === '/v1/checkout/sessions' &&
        (r.params.client_reference_id as string) === String(owner.team.id),
    )!;
    expect(plusCreate.params.subscription_data).toEqual({
      metadata: { teamId: String(owner.team.id) },
    });
  });

  it('400 billing.unknown_price for a price that is not offered; 400 for a malformed one', async () => {
    const owner = await signUp(t);
    for (const priceId of [archivedPrice, 'price_doesnotexist']) {
      const res = await checkout(owner, owner.team.id, priceId).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, code: 'billing.unknown_price' });
    }
    const bad = await checkout(owner, owner.team.id, 'prod_123').expect(400);
    expect(bad.body.details).toEqual([expect.objectContaining({ field: 'priceId' })]);
    await t.http
      .post(`/api/v1/teams/${owner.team.id}/billing/checkout`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ priceId: basePrice, quantity: 3 })
      .expect(400);
    expect((await teamRow(owner.team.id)).stripeCustomerId).toBeNull();
  });

  it('403 for a member (checkout and portal); nothing is created', async () => {
    const owner = await signUp(t);
    const member = await addMember(owner);
    const customers = fake.count('POST', '/v1/customers');
    const c = await checkout(member, owner.team.id, basePrice).expect(403);
    expect(c.body).toMatchObject({ statusCode: 403, code: 'team.forbidden' });
    const p = await portal(member, owner.team.id).expect(403);
    expect(p.body.code).toBe('team.forbidden');
    expect(fake.count('POST', '/v1/customers')).toBe(customers);
    expect((await teamRow(owner.team.id)).stripeCustomerId).toBeNull();
  });

  it('404 for an owner of team A on team B; B is unchanged and Stripe is not called', async () => {
    const a = await signUp(t);
    const b = await signUp(t);
    await checkout(b, b.team.id, basePrice).expect(200);
    const before = await teamRow(b.team.id);
    const calls = fake.requests.length;
    const c = await checkout(a, b.team.id, plusPrice).expect(404);
    expect(c.body).toMatchObject({ statusCode: 404, code: 'team.not_found' });
    await portal(a, b.team.id).expect(404);
    await checkout(a, 2_000_000_000, plusPrice).expect(404);
    expect(fake.requests.length).toBe(calls);
    expect(await teamRow(b.team.id)).toEqual(before);
  });

  it('401 without a token', async () => {
    const owner = await signUp(t);
    await t.http
      .post(`/api/v1/teams/${owner.team.id}/billing/checkout`)
      .send({ priceId: basePrice })
      .expect(401);
    await t.http.post(`/api/v1/teams/${owner.team.id}/billing/portal`).expect(401);
  });

  it('portal: 409 billing.no_customer before the first checkout, then a portal session for the team customer', async () => {
    const owner = await signUp(t);
    const none = await portal(owner, owner.team.id).expect(409);
    expect(none.body).toMatchObject({ statusCode: 409, code: 'billing.no_customer' });

    await checkout(owner, owner.team.id, basePrice).expect(200);
    const res = await portal(owner, owner.team.id).expect(200);
    expect(res.body).toEqual({
      url: expect.stringMatching(/^https:\/\/billing\.stripe\.com\/p\/session\//),
    });
    const session = [...fake.portalSessions.values()].find((s) => s.url === res.body.url)!;
    expect(session).toMatchObject({
      customer: (await teamRow(owner.team.id)).stripeCustomerId,
      return_url: `http://app.test/teams/${owner.team.id}/billing`,
    });
  });

  it('subscribe end to end: checkout → Stripe → success redirect → team subscribed; then checkout is refused', async () => {
    const owner = await signUp(t);
    const res = await checkout(owner, owner.team.id, basePrice).expect(200);
    const sessionId = /\/(cs_test_[A-Za-z0-9_]+)/.exec(res.body.url as string)![1]!;
    const sub = fake.completeCheckout(sessionId);

    const back = await t.http
      .get('/api/v1/billing/checkout/success')
      .query({ session_id: sessionId })
      .expect(303);
    expect(back.headers.location).toBe(
      `http://app.test/teams/${owner.team.id}/billing?checkout=success`,
    );
    expect(await teamRow(owner.team.id)).toMatchObject({
      stripeSubscriptionId: sub.id,
      planName: 'Base',
      subscriptionStatus: 'trialing',
    });

    const again = await checkout(owner, owner.team.id, plusPrice).expect(409);
    expect(again.body.code).toBe('billing.already_subscribed');
    // Members see the fields on the team.
    const team = await t.http
      .get(`/api/v1/teams/${owner.team.id}`)
      .set('Authorization', bearer(owner.accessToken))
      .expect(200);
    expect(team.body).toMatchObject({ planName: 'Base', subscriptionStatus: 'trialing' });
  });
});

describe('billing in the OpenAPI document', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  it('documents every billing route: public ones without security, owner ones with bearer and their errors', async () => {
    const { body } = await t.http.get('/docs-json').expect(200);
    type Operation = {
      security?: unknown;
      parameters?: unknown[];
      requestBody?: unknown;
      responses: Record<string, unknown>;
    };
    const paths = body.paths as Record<string, Record<string, Operation>>;
    const op = (path: string, method: string): Operation => paths[path]![method]!;
    for (const [path, method] of [
      ['/api/v1/billing/plans', 'get'],
      ['/api/v1/billing/checkout/success', 'get'],
      ['/api/v1/billing/webhook', 'post'],
    ] as const) {
      expect({ path, security: op(path, method).security }).toEqual({ path, security: [] });
      expect(op(path, method).responses['503']).toMatchObject({
        description: expect.stringContaining(
          '- `billing.not_configured`: Billing is not configured on this server',
        ),
      });
    }
    expect(Object.keys(op('/api/v1/billing/checkout/success', 'get').responses)).toEqual(
      expect.arrayContaining(['303', '400', '404', '409']),
    );
    const webhook = op('/api/v1/billing/webhook', 'post');
    expect(webhook.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'Stripe-Signature', in: 'header', required: true }),
      ]),
    );
    expect(Object.keys(webhook.responses)).toEqual(
      expect.arrayContaining(['200', '400', '500', '503']),
    );
    for (const path of [
      '/api/v1/teams/{teamId}/billing/checkout',
      '/api/v1/teams/{teamId}/billing/portal',
    ]) {
      const owner = op(path, 'post');
      expect(owner.security).toEqual([{ bearer: [] }]);
      expect(Object.keys(owner.responses)).toEqual(
        expect.arrayContaining(['200', '400', '401', '403', '404', '409', '502', '503']),
      );
    }
    expect(op('/api/v1/teams/{teamId}/billing/checkout', 'post').requestBody).toEqual({
      required: true,
      content: {
        'application/json': { schema: { $ref: '#/components/schemas/CreateCheckoutDto' } },
      },
    });
  });
});

describe('account deletion while a team is subscribed', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  const deleteMe = (who: SignedUp) =>
    t.http
      .delete('/api/v1/users/me')
      .set('Authorization', bearer(who.accessToken))
      .send({ password: who.password });
  const setStatus = (teamId: number, status: string) =>
    t.db
      .update(teams)
      .set({ stripeSubscriptionId: `sub_del_${teamId}`, subscriptionStatus: status })
      .where(eq(teams.id, teamId));

  it.each(['trialing', 'active', 'past_due', 'unpaid', 'paused'])(
    '409 billing.active_subscription for the only owner of a %s team; nothing deleted',
    async (status) => {
      const owner = await signUp(t);
      await setStatus(owner.team.id, status);
      const res = await deleteMe(owner).expect(409);
      expect(res.body).toMatchObject({
        statusCode: 409,
        code: 'billing.active_subscription',
        details: [{ field: `teams.${owner.team.id}`, message: expect.stringContaining(status) }],
      });
      const [user] = await t.db.select().from(users).where(eq(users.id, owner.user.id));
      expect(user!.deletedAt).toBeNull();
      expect(
        await t.db.select().from(teamMembers).where(eq(teamMembers.userId, owner.user.id)),
      ).toHaveLength(1);
    },
  );

  it.each(['canceled', 'incomplete_expired', 'incomplete'])(
    'allowed once the subscription is %s',
    async (status) => {
      const owner = await signUp(t);
      await setStatus(owner.team.id, status);
      await deleteMe(owner).expect(204);
      const [user] = await t.db.select().from(users).where(eq(users.id, owner.user.id));
      expect(user!.deletedAt).not.toBeNull();
    },
  );

  it('allowed when another owner keeps the subscribed team', async () => {
    const owner = await signUp(t);
    const coOwner = await signUp(t);
    await t.db
      .insert(teamMembers)
      .values({ teamId: owner.team.id, userId: coOwner.user.id, role: 'owner' });
    await setStatus(owner.team.id, 'active');
    await deleteMe(owner).expect(204);
    expect(
      (await t.db.select().from(teams).where(eq(teams.id, owner.team.id)))[0]!.subscriptionStatus,
    ).toBe('active');
  });
});

describe('billing owner routes without STRIPE_SECRET_KEY', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  it('503 billing.not_configured for the owner; access checks still come first', async () => {
    const owner = await signUp(t);
    const member = await signUp(t);
    await t.db
      .insert(teamMembers)
      .values({ teamId: owner.team.id, userId: member.user.id, role: 'member' });
    for (const path of ['checkout', 'portal']) {
      const res = await t.http
        .post(`/api/v1/teams/${owner.team.id}/billing/${path}`)
        .set('Authorization', bearer(owner.accessToken))
        .send(path === 'checkout' ? { priceId: 'price_123' } : undefined)
        .expect(503);
      expect(res.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        code: 'billing.not_configured',
        message: 'Billing is not configured on this server',
      });
      await t.http
        .post(`/api/v1/teams/${owner.team.id}/billing/${path}`)
        .set('Authorization', bearer(member.accessToken))
        .send(path === 'checkout' ? { priceId: 'price_123' } : undefined)
        .expect(403);
    }
    await t.http
      .get('/api/v1/users/me')
      .set('Authorization', bearer(owner.accessToken))
      .expect(200);
  });
});
