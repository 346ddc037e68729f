import { describe, expect, it } from '@jest/globals';
import type Stripe from 'stripe';
import {
  decideApply,
  needsProductName,
  subscriptionFieldsChanged,
  teamIdOfCheckoutSession,
  toPlans,
  toSnapshot,
  toSubscriptionFields,
  trialDaysOf,
} from './billing.mappers.js';
import { SUBSCRIPTION_STATUSES } from './subscription-status.js';

function product(id: string, overrides: Partial<Stripe.Product> = {}): Stripe.Product {
  return {
    id,
    object: 'product',
    active: true,
    created: 1,
    default_price: null,
    description: null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: {},
    name: id.toUpperCase(),
    package_dimensions: null,
    shippable: null,
    tax_details: null,
    type: 'service',
    updated: 1,
    url: null,
    ...overrides,
  };
}

function price(
  id: string,
  prod: Stripe.Product | string,
  overrides: Partial<Stripe.Price> = {},
): Stripe.Price {
  return {
    id,
    object: 'price',
    active: true,
    billing_scheme: 'per_unit',
    created: 100,
    currency: 'usd',
    custom_unit_amount: null,
    livemode: false,
    lookup_key: null,
    metadata: {},
    nickname: null,
    product: prod,
    recurring: {
      interval: 'month',
      interval_count: 1,
      meter: null,
      trial_period_days: null,
      usage_type: 'licensed',
    },
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: 'recurring',
    unit_amount: 800,
    unit_amount_decimal: '800',
    ...overrides,
  } as Stripe.Price;
}

/** 2026-12-31T00:00:00Z. */
const PERIOD_END = 1_798_675_200;

/** What a live subscription of `subscription()` maps to besides its product and status. */
const LIVE_EXTRAS = {
  planLimits: {},
  perSeat: false,
  stripeSubscriptionItemId: 'si_1',
  cancelAtPeriodEnd: false,
  currentPeriodEnd: new Date(PERIOD_END * 1000),
};

/** An ended subscription clears every plan column. */
const ENDED_EXTRAS = {
  planLimits: null,
  perSeat: false,
  stripeSubscriptionItemId: null,
  cancelAtPeriodEnd: false,
  currentPeriodEnd: null,
};

function subscription(
  status: string,
  item: { product: string | Stripe.Product; priceMetadata?: Record<string, string> },
  overrides: Partial<Stripe.Subscription> = {},
): Stripe.Subscription {
  return {
    id: 'sub_1',
    object: 'subscription',
    customer: 'cus_1',
    status,
    cancel_at_period_end: false,
    items: {
      object: 'list',
      data: [
        {
          id: 'si_1',
          current_period_end: PERIOD_END,
          price: price('price_1', item.product, { metadata: item.priceMetadata ?? {} }),
        },
      ],
      has_more: false,
      url: '/v1/subscription_items',
    },
    ...overrides,
  } as unknown as Stripe.Subscription;
}

describe('trialDaysOf', () => {
  it('prefers the price metadata, then the legacy recurring field, then the product metadata', () => {
    const p = product('prod_a', { metadata: { trial_days: '30' } });
    expect(trialDaysOf(price('price_a', p, { metadata: { trial_days: '7' } }), p)).toBe(7);
    const legacy = price('price_b', p);
    legacy.recurring!.trial_period_days = 14;
    expect(trialDaysOf(legacy, p)).toBe(14);
    expect(trialDaysOf(price('price_c', p), p)).toBe(30);
    expect(trialDaysOf(price('price_d', 'prod_x'))).toBe(0);
  });

  it('ignores metadata that is not a small whole number', () => {
    for (const value of ['-1', 'seven', '1.5', '9999', '']) {
      expect(trialDaysOf(price('price_a', 'prod_a', { metadata: { trial_days: value } }))).toBe(0);
    }
  });
});

describe('toPlans', () => {
  it('gives one plan per active product, with its default price, cheapest first', () => {
    const plus = product('prod_plus', { name: 'Plus', default_price: 'price_plus_default' });
    const base = product('prod_base', { name: 'Base', metadata: {} });
    const plans = toPlans([
      price('price_plus_newer', plus, { unit_amount: 1500, created: 300 }),
      price('price_plus_default', plus, { unit_amount: 1200, created: 200 }),
      price('price_base_old', base, { created: 100 }),
      price('price_base_new', base, { created: 200, metadata: { trial_days: '7' } }),
    ]);
    expect(plans).toEqual([
      {
        productId: 'prod_base',
        name: 'Base',
        priceId: 'price_base_new',
        amount: 800,
        currency: 'usd',
        interval: 'month',
        trialDays: 7,
      },
      {
        productId: 'prod_plus',
        name: 'Plus',
        priceId: 'price_plus_default',
        amount: 1200,
        currency: 'usd',
        interval: 'month',
        trialDays: 0,
      },
    ]);
  });

  it('leaves out inactive products and prices, one-time, metered and amount-less prices', () => {
    const archived = product('prod_archived', { active: false });
    const ok = product('prod_ok');
    const metered = price('price_metered', ok);
    metered.recurring!.usage_type = 'metered';
    const plans = toPlans([
      price('price_archived', archived),
      price('price_inactive', ok, { active: false }),
      price('price_once', ok, { type: 'one_time', recurring: null }),
      metered,
      price('price_custom', ok, { unit_amount: null }),
      price('price_unexpanded', 'prod_ok'),
    ]);
    expect(plans).toEqual([]);
  });
});

describe('toSubscriptionFields', () => {
  it.each(SUBSCRIPTION_STATUSES.filter((s) => s !== 'canceled' && s !== 'incomplete_expired'))(
    '%s keeps the plan and stores the status as Stripe names it',
    (status) => {
      const snapshot = toSnapshot(
        subscription(status, { product: product('prod_plus', { name: 'Plus' }) }),
      );
      expect(toSubscriptionFields(snapshot)).toEqual({
        stripeSubscriptionId: 'sub_1',
        stripeProductId: 'prod_plus',
        planName: 'Plus',
        subscriptionStatus: status,
        ...LIVE_EXTRAS,
      });
    },
  );

  it.each(['canceled', 'incomplete_expired'])(
    '%s keeps the subscription id but names no plan',
    (status) => {
      const snapshot = toSnapshot(subscription(status, { product: 'prod_plus' }));
      expect(needsProductName(snapshot)).toBeUndefined();
      expect(toSubscriptionFields(snapshot)).toEqual({
        stripeSubscriptionId: 'sub_1',
        stripeProductId: null,
        planName: null,
        subscriptionStatus: status,
        ...ENDED_EXTRAS,
      });
    },
  );

  it('uses a fetched product name when the event carries only the product id', () => {
    const snapshot = toSnapshot(subscription('active', { product: 'prod_plus' }));
    expect(needsProductName(snapshot)).toBe('prod_plus');
    expect(toSubscriptionFields(snapshot, 'Plus')).toMatchObject({
      stripeProductId: 'prod_plus',
      planName: 'Plus',
    });
  });

  it('reads the limits from the expanded product and the per-seat flag from the price', () => {
    const pro = product('prod_pro', {
      name: 'Pro',
      metadata: { max_members: '10', max_api_keys: '0', max_webhooks: ' 3 ', other: 'x' },
    });
    const sub = subscription(
      'trialing',
      { product: pro, priceMetadata: { per_seat: 'true' } },
      { cancel_at_period_end: true },
    );
    expect(toSubscriptionFields(toSnapshot(sub))).toEqual({
      stripeSubscriptionId: 'sub_1',
      stripeProductId: 'prod_pro',
      planName: 'Pro',
      subscriptionStatus: 'trialing',
      planLimits: { maxMembers: 10, maxApiKeys: 0, maxWebhooks: 3 },
      perSeat: true,
      stripeSubscriptionItemId: 'si_1',
      cancelAtPeriodEnd: true,
      currentPeriodEnd: new Date('2026-12-31T00:00:00Z'),
    });
  });

  it.each([
    ['absent', {}, {}],
    ['not whole numbers', { max_members: '2.5', max_api_keys: '-1', max_webhooks: 'ten' }, {}],
    ['empty', { max_members: '' }, {}],
    ['partly valid', { max_members: '5', max_webhooks: '1e3' }, { maxMembers: 5 }],
  ])('limits %s in the metadata are unlimited', (_case, metadata, limits) => {
    const snapshot = toSnapshot(
      subscription('active', { product: product('prod_x', { metadata }) }),
    );
    expect(toSubscriptionFields(snapshot).planLimits).toEqual(limits);
  });

  it('per_seat other than "true" is not per seat', () => {
    for (const perSeat of ['TRUE', '1', 'yes', '']) {
      const sub = subscription('active', {
        product: 'prod_x',
        priceMetadata: { per_seat: perSeat },
      });
      expect(toSubscriptionFields(toSnapshot(sub), 'X', {}).perSeat).toBe(false);
    }
  });

  it('uses fetched product metadata when the event carries only the product id; without it, no limits of its own', () => {
    const snapshot = toSnapshot(subscription('active', { product: 'prod_plus' }));
    expect(toSubscriptionFields(snapshot, 'Plus', { max_members: '4' }).planLimits).toEqual({
      maxMembers: 4,
    });
    expect(toSubscriptionFields(snapshot, 'Plus').planLimits).toBeNull();
  });

  it('an ended per-seat subscription clears its plan columns', () => {
    const pro = product('prod_pro', { metadata: { max_members: '10' } });
    const sub = subscription(
      'canceled',
      { product: pro, priceMetadata: { per_seat: 'true' } },
      { cancel_at_period_end: true },
    );
    expect(toSubscriptionFields(toSnapshot(sub))).toMatchObject(ENDED_EXTRAS);
  });

  it('fits planName and status into their columns', () => {
    const long = product('prod_long', { name: 'x'.repeat(80) });
    const snapshot = toSnapshot(subscription('some_future_status_name', { product: long }));
    const fields = toSubscriptionFields(snapshot);
    expect(fields.planName).toHaveLength(50);
    expect(fields.subscriptionStatus).toBe('some_future_status_n');
  });

  it('reads the customer id from an expanded customer too', () => {
    const sub = subscription(
      'active',
      { product: 'prod_a' },
      {
        customer: { id: 'cus_9', object: 'customer' } as Stripe.Customer,
      },
    );
    expect(toSnapshot(sub).customerId).toBe('cus_9');
  });
});

describe('subscriptionFieldsChanged', () => {
  const current = {
    stripeSubscriptionId: 'sub_1',
    stripeProductId: 'prod_1',
    planName: 'Base',
    subscriptionStatus: 'active',
    ...LIVE_EXTRAS,
  };

  it('is false for the same state, true when any stored field differs', () => {
    expect(subscriptionFieldsChanged(current, { ...current })).toBe(false);
    // Equal values in new objects (a Date, limits with null for absent) are the same state.
    expect(
      subscriptionFieldsChanged(current, {
        ...current,
        planLimits: { maxMembers: null },
        currentPeriodEnd: new Date(PERIOD_END * 1000),
      }),
    ).toBe(false);
    for (const [field, value] of [
      ['stripeSubscriptionId', 'sub_2'],
      ['stripeProductId', 'prod_2'],
      ['planName', 'Plus'],
      ['subscriptionStatus', 'past_due'],
      ['planLimits', { maxMembers: 3 }],
      ['perSeat', true],
      ['stripeSubscriptionItemId', 'si_2'],
      ['cancelAtPeriodEnd', true],
      ['currentPeriodEnd', new Date((PERIOD_END + 1) * 1000)],
    ] as const) {
      expect(subscriptionFieldsChanged(current, { ...current, [field]: value })).toBe(true);
    }
  });

  it('a team without a subscription yet changes with the first one', () => {
    const none = {
      stripeSubscriptionId: null,
      stripeProductId: null,
      planName: null,
      subscriptionStatus: null,
      ...ENDED_EXTRAS,
    };
    expect(subscriptionFieldsChanged(none, current)).toBe(true);
  });
});

describe('decideApply', () => {
  const team = (
    subscriptionId: string | null,
    status: string | null,
    lastAppliedAt: number | null,
  ) => ({
    stripeSubscriptionId: subscriptionId,
    subscriptionStatus: status,
    lastAppliedAt,
  });

  it('applies to a team without history', () => {
    expect(
      decideApply(team(null, null, null), { subscriptionId: 'sub_1', status: 'trialing' }, 5),
    ).toEqual({ apply: true });
  });

  it('skips an event older than the newest applied one', () => {
    expect(
      decideApply(
        team('sub_1', 'active', 100),
        { subscriptionId: 'sub_1', status: 'trialing' },
        99,
      ),
    ).toEqual({
      apply: false,
      reason: 'stale',
    });
  });

  it('applies a newer event and a same-second tie', () => {
    expect(
      decideApply(
        team('sub_1', 'trialing', 100),
        { subscriptionId: 'sub_1', status: 'active' },
        101,
      ),
    ).toEqual({ apply: true });
    expect(
      decideApply(
        team('sub_1', 'trialing', 100),
        { subscriptionId: 'sub_1', status: 'past_due' },
        100,
      ),
    ).toEqual({ apply: true });
  });

  it('never revives an ended subscription, even on a tie', () => {
    expect(
      decideApply(
        team('sub_1', 'canceled', 100),
        { subscriptionId: 'sub_1', status: 'active' },
        100,
      ),
    ).toEqual({
      apply: false,
      reason: 'subscription_ended',
    });
  });

  it("does not let another subscription's end replace a live one", () => {
    expect(
      decideApply(
        team('sub_2', 'active', 100),
        { subscriptionId: 'sub_1', status: 'canceled' },
        200,
      ),
    ).toEqual({
      apply: false,
      reason: 'other_subscription_ended',
    });
  });

  it('lets a new subscription replace an ended one', () => {
    expect(
      decideApply(
        team('sub_1', 'canceled', 100),
        { subscriptionId: 'sub_2', status: 'active' },
        150,
      ),
    ).toEqual({ apply: true });
  });
});

describe('teamIdOfCheckoutSession', () => {
  const session = (ref: string | null, teamId?: string) =>
    ({
      client_reference_id: ref,
      metadata: teamId === undefined ? {} : { teamId },
    }) as Stripe.Checkout.Session;

  it('reads the team id when reference and metadata agree', () => {
    expect(teamIdOfCheckoutSession(session('42', '42'))).toBe(42);
    expect(teamIdOfCheckoutSession(session('42'))).toBe(42);
  });

  it('rejects missing, malformed, out-of-range or contradicting references', () => {
    expect(teamIdOfCheckoutSession(session(null, '42'))).toBeUndefined();
    expect(teamIdOfCheckoutSession(session('abc'))).toBeUndefined();
    expect(teamIdOfCheckoutSession(session('0'))).toBeUndefined();
    expect(teamIdOfCheckoutSession(session('9999999999'))).toBeUndefined();
    expect(teamIdOfCheckoutSession(session('42', '43'))).toBeUndefined();
  });
});
