import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

/**
 * A small Stripe-compatible HTTP server for tests. It speaks the wire protocol the official SDK
 * uses (form-encoded bodies with bracket notation, `expand[]`, Idempotency-Key, Bearer auth,
 * Stripe's error envelope) and returns objects in Stripe's shapes (object, id prefixes, created,
 * livemode, lists). Point the app at it with STRIPE_API_URL=fake.url.
 *
 * Only the endpoints the billing module calls are implemented; anything else answers 404 the way
 * Stripe does for an unknown URL, and unknown parameters answer 400 `parameter_unknown`, so a
 * mistake in our requests fails the test instead of passing silently.
 */

type Json = Record<string, unknown>;
type Params = Record<string, unknown>;

export interface FakeRequest {
  method: string;
  path: string;
  params: Params;
  idempotencyKey: string | undefined;
  /** Set when an injected failure answered this call instead of the endpoint (failNext). */
  failedWith?: number | 'hang';
  /** Set when Stripe's idempotency layer answered with the first response for the key. */
  replayed?: boolean;
}

export type SubscriptionStatus = Stripe.Subscription.Status;

export const FAKE_STRIPE_SECRET_KEY = 'sk_test_fake_0123456789abcdef';
export const FAKE_WEBHOOK_SECRET = 'whsec_fake_0123456789abcdefghijklmnop';

class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: string | undefined,
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

const now = (): number => Math.floor(Date.now() / 1000);
const id = (prefix: string, length = 14): string =>
  `${prefix}_${randomBytes(length)
    .toString('base64url')
    .replace(/[-_]/g, 'x')
    .slice(0, length + 6)}`;

/** Parses `a[b][0][c]=x` pairs (as the SDK encodes them) into nested objects and arrays. */
export function parseStripeParams(search: URLSearchParams): Params {
  const root: Params = {};
  for (const [rawKey, value] of search) {
    const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(rawKey);
    if (!match)
      throw new StripeApiError(
        400,
        'invalid_request_error',
        'parameter_invalid',
        `Invalid parameter: ${rawKey}`,
        rawKey,
      );
    const path = [match[1]!, ...[...match[2]!.matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1]!)];
    let node: Record<string, unknown> | unknown[] = root;
    path.forEach((segment, i) => {
      const last = i === path.length - 1;
      const nextIsIndex = !last && /^\d+$/.test(path[i + 1]!);
      const key: string | number = Array.isArray(node) ? Number(segment) : segment;
      const container = node as Record<string | number, unknown>;
      if (last) {
        container[key] = value;
      } else {
        container[key] ??= nextIsIndex ? [] : {};
        node = container[key] as Record<string, unknown> | unknown[];
      }
    });
  }
  return root;
}

function str(params: Params, name: string, required = false): string | undefined {
  const value = params[name];
  if (value === undefined || value === '') {
    if (required) throw missing(name);
    return undefined;
  }
  if (typeof value !== 'string') throw invalid(name);
  return value;
}

function int(params: Params, name: string): number | undefined {
  const value = str(params, name);
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw invalid(name);
  return Number(value);
}

function bool(params: Params, name: string): boolean | undefined {
  const value = str(params, name);
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false') throw invalid(name);
  return value === 'true';
}

function metadata(params: Params, name = 'metadata'): Record<string, string> {
  const value = params[name];
  if (value === undefined || value === '') return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(name);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

function allow(params: Params, allowed: readonly string[]): void {
  for (const key of Object.keys(params)) {
    if (!allowed.includes(key)) {
      throw new StripeApiError(
        400,
        'invalid_request_error',
        'parameter_unknown',
        `Received unknown parameter: ${key}`,
        key,
      );
    }
  }
}

const missing = (param: string): StripeApiError =>
  new StripeApiError(
    400,
    'invalid_request_error',
    'parameter_missing',
    `Missing required param: ${param}.`,
    param,
  );
const invalid = (param: string): StripeApiError =>
  new StripeApiError(
    400,
    'invalid_request_error',
    'parameter_invalid',
    `Invalid value for ${param}.`,
    param,
  );
const noSuch = (kind: string, value: string, param = 'id'): StripeApiError =>
  new StripeApiError(
    404,
    'invalid_request_error',
    'resource_missing',
    `No such ${kind}: '${value}'`,
    param,
  );

/**
 * One page of a list in Stripe's cursor pagination: `all` is in the list's order (newest first
 * for Stripe's lists); `starting_after` pages forward from an object, `ending_before` backward
 * (the `limit` objects just before it, `has_more` then telling whether more lie before those).
 * Both at once is an error, as at Stripe.
 */
function list(url: string, all: Json[], params: Params): Json {
  const limit = int(params, 'limit') ?? 10;
  if (limit < 1 || limit > 100) throw invalid('limit');
  const after = str(params, 'starting_after');
  const before = str(params, 'ending_before');
  if (after !== undefined && before !== undefined) {
    throw new StripeApiError(
      400,
      'invalid_request_error',
      'parameter_invalid',
      'You may only specify one of these parameters: ending_before, starting_after.',
      'ending_before',
    );
  }
  if (before !== undefined) {
    const index = all.findIndex((o) => o.id === before);
    if (index === -1) throw noSuch('object', before, 'ending_before');
    const start = Math.max(0, index - limit);
    return { object: 'list', data: all.slice(start, index), has_more: start > 0, url };
  }
  let start = 0;
  if (after !== undefined) {
    const index = all.findIndex((o) => o.id === after);
    if (index === -1) throw noSuch('object', after, 'starting_after');
    start = index + 1;
  }
  const data = all.slice(start, start + limit);
  return { object: 'list', data, has_more: start + limit < all.length, url };
}

/** Statuses in which a subscription grants its product's entitlements (and can be updated). */
const ENTITLED_STATUSES: readonly string[] = ['active', 'trialing', 'past_due'];
const ENDED_STATUSES: readonly string[] = ['canceled', 'incomplete_expired'];

/** A failure the next matching calls get instead of an answer (see FakeStripe.failNext). */
export interface InjectedFailure {
  method: string;
  path: string | RegExp;
  /** How many calls still fail. */
  times: number;
  /** `500`/`503`/...: Stripe's `api_error` envelope; `hang`: no answer until the client gives up. */
  with: number | 'hang';
}

export interface FakeStripe {
  url: string;
  /** Every API request received, in order. */
  requests: FakeRequest[];
  customers: Map<string, Json>;
  products: Map<string, Json>;
  prices: Map<string, Json>;
  subscriptions: Map<string, Json>;
  checkoutSessions: Map<string, Json>;
  portalSessions: Map<string, Json>;
  invoices: Map<string, Json>;
  /** Entitlements features (`entitlements.feature`) by id. */
  features: Map<string, Json>;
  /**
   * Creates an active product with one monthly recurring price (its default price).
   * `perSeat` sets the price's `metadata.per_seat = 'true'`; `productMetadata` the product's
   * metadata (e.g. `max_members`); `features` attaches features by lookup key (created when new).
   */
  createPlan(input: {
    name: string;
    amount: number;
    currency?: string;
    interval?: 'day' | 'week' | 'month' | 'year';
    trialDays?: number;
    active?: boolean;
    perSeat?: boolean;
    productMetadata?: Record<string, string>;
    features?: string[];
  }): { product: Json; price: Json };
  /** A feature (Entitlements) with this lookup key, created on first use. */
  feature(lookupKey: string, name?: string): Json;
  /** Attaches a feature to a product (Stripe's product features); idempotent. */
  attachFeature(productId: string, lookupKey: string): void;
  /** Detaches a feature from a product. */
  detachFeature(productId: string, lookupKey: string): void;
  /**
   * The `entitlements.active_entitlement_summary` object Stripe sends in the
   * `entitlements.active_entitlement_summary.updated` event: the customer's active entitlements
   * (features of the products of its active, trialing or past_due subscriptions).
   */
  activeEntitlementSummary(customerId: string): Json;
  /**
   * An invoice of the customer (finalized: `open`, or `paid` etc.), as Stripe lists it.
   * `created` defaults to now, plus a tick per invoice so that the order is total.
   */
  createInvoice(input: {
    customer: string;
    subscription?: string;
    amountDue?: number;
    amountPaid?: number;
    currency?: string;
    status?: 'draft' | 'open' | 'paid' | 'uncollectible' | 'void';
    created?: number;
  }): Json;
  /** A failed payment attempt on an open invoice (attempt_count + 1): what `invoice.payment_failed` carries. */
  failInvoicePayment(invoiceId: string): Json;
  /**
   * The next `times` calls matching method and path fail before reaching the endpoint (nothing
   * executes, so nothing is saved for their Idempotency-Key, as at Stripe when a request never
   * started): `with` 500 (default) or another 5xx answers Stripe's `api_error` envelope;
   * `hang` never answers (the client's timeout ends it).
   */
  failNext(
    method: string,
    path: string | RegExp,
    options?: { times?: number; with?: number | 'hang' },
  ): void;
  /** What Checkout does when the customer pays: creates the subscription and completes the session. */
  completeCheckout(sessionId: string, status?: SubscriptionStatus): Json;
  /** A subscription for a customer, as the API would create it. */
  createSubscription(
    customerId: string,
    priceId: string,
    status?: SubscriptionStatus,
    quantity?: number,
  ): Json;
  /** Changes a stored subscription (status, price) the way Stripe's own transitions would. */
  updateSubscription(
    subscriptionId: string,
    changes: { status?: SubscriptionStatus; priceId?: string },
  ): Json;
  /** A webhook Event object wrapping a snapshot of `object`. */
  event(
    type: string,
    object: Json,
    options?: { created?: number; id?: string; previousAttributes?: Json },
  ): Json;
  /** The exact bytes and Stripe-Signature header Stripe would send for an event. */
  sign(
    event: Json | string,
    options?: { secret?: string; timestamp?: number },
  ): { payload: string; header: string };
  count(method: string, path: string | RegExp): number;
  close(): Promise<void>;
}

/** Starts a fake Stripe API on a random local port. */
export async function startFakeStripe(options: { secretKey?: string } = {}): Promise<FakeStripe> {
  const secretKey = options.secretKey ?? FAKE_STRIPE_SECRET_KEY;
  const requests: FakeRequest[] = [];
  const customers = new Map<string, Json>();
  const products = new Map<string, Json>();
  const prices = new Map<string, Json>();
  const subscriptions = new Map<string, Json>();
  const checkoutSessions = new Map<string, Json>();
  const portalSessions = new Map<string, Json>();
  const invoices = new Map<string, Json>();
  const features = new Map<string, Json>();
  /** Product id → the ids of its attached features, in attachment order. */
  const productFeatures = new Map<string, string[]>();
  /** `${customer} ${feature}` → active entitlement id: stable while it stays active. */
  const entitlementIds = new Map<string, string>();
  const failures: InjectedFailure[] = [];
  /** Hung requests, answered (destroyed) on close. */
  const hung = new Set<ServerResponse>();
  let invoiceTick = 0;
  /** Internal, non-public data of checkout sessions (line items, subscription_data). */
  const sessionPrivate = new Map<
    string,
    {
      priceId: string;
      quantity: number;
      trialDays?: number;
      subscriptionMetadata: Record<string, string>;
    }
  >();
  const idempotent = new Map<string, { status: number; body: Json; fingerprint: string }>();
  const signer = new Stripe(secretKey);

  const byId = (value: string): Json | undefined => {
    if (value.startsWith('cus_')) return customers.get(value);
    if (value.startsWith('prod_')) return products.get(value);
    if (value.startsWith('price_')) return prices.get(value);
    if (value.startsWith('sub_')) return subscriptions.get(value);
    if (value.startsWith('in_')) return invoices.get(value);
    if (value.startsWith('feat_')) return features.get(value);
    return undefined;
  };

  /** Applies Stripe's `expand` paths (e.g. `subscription.items.data.price.product`) to a copy. */
  function expand(object: Json, paths: string[]): Json {
    const copy = structuredClone(object);
    for (const path of paths) {
      const segments = path.split('.');
      if (segments.length > 5) throw invalid('expand');
      const walk = (node: unknown, rest: string[]): void => {
        if (rest.length === 0 || typeof node !== 'object' || node === null) return;
        const [head, ...tail] = rest as [string, ...string[]];
        const record = node as Json;
        if (head === 'data' && Array.isArray(record.data)) {
          for (const item of record.data) walk(item, tail);
          return;
        }
        let value = record[head];
        if (typeof value === 'string') {
          const found = byId(value);
          if (found === undefined) return;
          value = structuredClone(found);
          record[head] = value;
        } else if (value === undefined) {
          throw new StripeApiError(
            400,
            'invalid_request_error',
            'parameter_invalid',
            `This property cannot be expanded (${path}).`,
            'expand',
          );
        }
        walk(value, tail);
      };
      walk(copy, segments);
    }
    return copy;
  }

  const expandParam = (params: Params): string[] => {
    const value = params.expand;
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw invalid('expand');
    return value.map(String);
  };

  function newPrice(
    product: string,
    amount: number,
    currency: string,
    interval: string,
    trialDays: number | undefined,
    extra: Json = {},
  ): Json {
    return {
      id: id('price'),
      object: 'price',
      active: true,
      billing_scheme: 'per_unit',
      created: now(),
      currency,
      custom_unit_amount: null,
      livemode: false,
      lookup_key: null,
      metadata: {},
      nickname: null,
      product,
      recurring: {
        interval,
        interval_count: 1,
        meter: null,
        trial_period_days: trialDays ?? null,
        usage_type: 'licensed',
      },
      tax_behavior: 'unspecified',
      tiers_mode: null,
      transform_quantity: null,
      type: 'recurring',
      unit_amount: amount,
      unit_amount_decimal: String(amount),
      ...extra,
    };
  }

  function newProduct(name: string, extra: Json = {}): Json {
    const t = now();
    return {
      id: id('prod'),
      object: 'product',
      active: true,
      created: t,
      default_price: null,
      description: null,
      images: [],
      livemode: false,
      marketing_features: [],
      metadata: {},
      name,
      package_dimensions: null,
      shippable: null,
      statement_descriptor: null,
      tax_code: null,
      type: 'service',
      unit_label: null,
      updated: t,
      url: null,
      ...extra,
    };
  }

  function createSubscription(
    customerId: string,
    priceId: string,
    status: SubscriptionStatus = 'active',
    trialDays?: number,
    meta: Record<string, string> = {},
    quantity = 1,
  ): Json {
    const price = prices.get(priceId);
    if (!customers.has(customerId)) throw noSuch('customer', customerId, 'customer');
    if (!price) throw noSuch('price', priceId, 'items[0][price]');
    const t = now();
    const subId = id('sub');
    const trialEnd = trialDays ? t + trialDays * 86_400 : null;
    const effective: SubscriptionStatus =
      trialEnd !== null && status === 'active' ? 'trialing' : status;
    const periodEnd = trialEnd ?? t + 30 * 86_400;
    const subscription: Json = {
      id: subId,
      object: 'subscription',
      application: null,
      application_fee_percent: null,
      automatic_tax: { disabled_reason: null, enabled: false, liability: null },
      billing_cycle_anchor: periodEnd,
      billing_cycle_anchor_config: null,
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: null,
      cancellation_details: { comment: null, feedback: null, reason: null },
      collection_method: 'charge_automatically',
      created: t,
      currency: price.currency,
      customer: customerId,
      days_until_due: null,
      default_payment_method: null,
      default_source: null,
      description: null,
      discounts: [],
      ended_at: null,
      invoice_settings: { account_tax_ids: null, issuer: { type: 'self' } },
      items: {
        object: 'list',
        data: [
          {
            id: id('si'),
            object: 'subscription_item',
            created: t,
            current_period_end: periodEnd,
            current_period_start: t,
            discounts: [],
            metadata: {},
            price: structuredClone(price),
            quantity,
            subscription: subId,
            tax_rates: [],
          },
        ],
        has_more: false,
        total_count: 1,
        url: `/v1/subscription_items?subscription=${subId}`,
      },
      latest_invoice: id('in'),
      livemode: false,
      metadata: meta,
      pause_collection: null,
      pending_setup_intent: null,
      pending_update: null,
      schedule: null,
      start_date: t,
      status: effective,
      test_clock: null,
      trial_end: trialEnd,
      trial_start: trialEnd === null ? null : t,
    };
    subscriptions.set(subId, subscription);
    return subscription;
  }

  function updateSubscription(
    subscriptionId: string,
    changes: { status?: SubscriptionStatus; priceId?: string },
  ): Json {
    const subscription = subscriptions.get(subscriptionId);
    if (!subscription) throw noSuch('subscription', subscriptionId);
    if (changes.priceId !== undefined) {
      const price = prices.get(changes.priceId);
      if (!price) throw noSuch('price', changes.priceId, 'items[0][price]');
      const items = subscription.items as { data: Json[] };
      items.data[0]!.price = structuredClone(price);
    }
    if (changes.status !== undefined) {
      subscription.status = changes.status;
      if (changes.status === 'canceled' || changes.status === 'incomplete_expired') {
        subscription.canceled_at ??= now();
        subscription.ended_at ??= now();
      }
    }
    return subscription;
  }

  const periodEndOf = (subscription: Json): number =>
    ((subscription.items as { data: Json[] }).data[0]?.current_period_end as number | undefined) ??
    now();

  /** Stripe refuses changes to an ended subscription (and its items). */
  function refuseEnded(subscription: Json): void {
    if (ENDED_STATUSES.includes(subscription.status as string)) {
      throw new StripeApiError(
        400,
        'invalid_request_error',
        undefined,
        `A canceled subscription can only update its cancellation_details and metadata.`,
      );
    }
  }

  function findItem(itemId: string): { item: Json; subscription: Json } {
    for (const subscription of subscriptions.values()) {
      const item = (subscription.items as { data: Json[] }).data.find((i) => i.id === itemId);
      if (item) return { item, subscription };
    }
    throw noSuch('subscription_item', itemId);
  }

  const subscriptionOfInvoice = (invoice: Json): string | undefined =>
    (invoice.parent as { subscription_details?: { subscription?: string } } | null)
      ?.subscription_details?.subscription;

  function feature(lookupKey: string, name = lookupKey): Json {
    const existing = [...features.values()].find((f) => f.lookup_key === lookupKey);
    if (existing) return existing;
    const created: Json = {
      id: id('feat_test'),
      object: 'entitlements.feature',
      active: true,
      livemode: false,
      lookup_key: lookupKey,
      metadata: {},
      name,
    };
    features.set(created.id as string, created);
    return created;
  }

  function attachFeatureTo(productId: string, lookupKey: string): void {
    if (!products.has(productId)) throw new Error(`fake-stripe: no product ${productId}`);
    const featureId = feature(lookupKey).id as string;
    const attached = productFeatures.get(productId) ?? [];
    if (!attached.includes(featureId)) productFeatures.set(productId, [...attached, featureId]);
  }

  /** The customer's active entitlements: one per feature of its entitled subscriptions' products. */
  function activeEntitlements(customerId: string): Json[] {
    const featureIds = new Set<string>();
    for (const subscription of subscriptions.values()) {
      if (subscription.customer !== customerId) continue;
      if (!ENTITLED_STATUSES.includes(subscription.status as string)) continue;
      for (const item of (subscription.items as { data: Json[] }).data) {
        const product = (item.price as Json).product as string;
        for (const featureId of productFeatures.get(product) ?? []) featureIds.add(featureId);
      }
    }
    return [...featureIds].map((featureId) => {
      const key = `${customerId} ${featureId}`;
      let entitlementId = entitlementIds.get(key);
      if (entitlementId === undefined) {
        entitlementId = id('ent_test');
        entitlementIds.set(key, entitlementId);
      }
      return {
        id: entitlementId,
        object: 'entitlements.active_entitlement',
        feature: featureId,
        livemode: false,
        lookup_key: features.get(featureId)!.lookup_key,
      };
    });
  }

  function createInvoice(input: Parameters<FakeStripe['createInvoice']>[0]): Json {
    const customer = customers.get(input.customer);
    if (!customer) throw new Error(`fake-stripe: no customer ${input.customer}`);
    const status = input.status ?? 'paid';
    const amountDue = input.amountDue ?? 1200;
    const amountPaid = input.amountPaid ?? (status === 'paid' ? amountDue : 0);
    const created = input.created ?? now() + invoiceTick++;
    const invoiceId = id('in');
    const finalized = status !== 'draft';
    const count = [...invoices.values()].filter((i) => i.customer === input.customer).length;
    const invoice: Json = {
      id: invoiceId,
      object: 'invoice',
      account_country: 'US',
      account_name: 'Fake Stripe',
      amount_due: amountDue,
      amount_overpaid: 0,
      amount_paid: amountPaid,
      amount_remaining: amountDue - amountPaid,
      amount_shipping: 0,
      attempt_count: status === 'paid' ? 1 : 0,
      attempted: status === 'paid',
      auto_advance: status === 'open',
      billing_reason: input.subscription ? 'subscription_cycle' : 'manual',
      collection_method: 'charge_automatically',
      created,
      currency: input.currency ?? 'usd',
      customer: input.customer,
      customer_email: customer.email ?? null,
      customer_name: customer.name ?? null,
      default_payment_method: null,
      description: null,
      discounts: [],
      due_date: null,
      effective_at: finalized ? created : null,
      hosted_invoice_url: finalized
        ? `https://invoice.stripe.com/i/acct_fake/test_${randomBytes(12).toString('base64url')}`
        : null,
      invoice_pdf: finalized
        ? `https://pay.stripe.com/invoice/acct_fake/test_${randomBytes(12).toString('base64url')}/pdf`
        : null,
      lines: { object: 'list', data: [], has_more: false, url: `/v1/invoices/${invoiceId}/lines` },
      livemode: false,
      metadata: {},
      next_payment_attempt: null,
      number: finalized
        ? `${customer.invoice_prefix as string}-${String(count + 1).padStart(4, '0')}`
        : null,
      parent: input.subscription
        ? {
            quote_details: null,
            subscription_details: { metadata: {}, subscription: input.subscription },
            type: 'subscription_details',
          }
        : null,
      period_end: created,
      period_start: created - 30 * 86_400,
      status,
      status_transitions: {
        finalized_at: finalized ? created : null,
        marked_uncollectible_at: null,
        paid_at: status === 'paid' ? created : null,
        voided_at: null,
      },
      subtotal: amountDue,
      total: amountDue,
      webhooks_delivered_at: created,
    };
    invoices.set(invoiceId, invoice);
    return invoice;
  }

  const routes: {
    method: string;
    pattern: RegExp;
    handle: (params: Params, match: RegExpExecArray, key: string | undefined) => Json;
  }[] = [
    {
      method: 'POST',
      pattern: /^\/v1\/customers$/,
      handle: (params) => {
        allow(params, ['name', 'email', 'metadata', 'description', 'expand']);
        const customer: Json = {
          id: id('cus'),
          object: 'customer',
          address: null,
          balance: 0,
          created: now(),
          currency: null,
          default_source: null,
          delinquent: false,
          description: str(params, 'description') ?? null,
          email: str(params, 'email') ?? null,
          invoice_prefix: randomBytes(4).toString('hex').toUpperCase(),
          invoice_settings: {
            custom_fields: null,
            default_payment_method: null,
            footer: null,
            rendering_options: null,
          },
          livemode: false,
          metadata: metadata(params),
          name: str(params, 'name') ?? null,
          phone: null,
          preferred_locales: [],
          shipping: null,
          tax_exempt: 'none',
          test_clock: null,
        };
        customers.set(customer.id as string, customer);
        return customer;
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/customers\/([^/]+)$/,
      handle: (params, m) => {
        allow(params, ['expand']);
        const customer = customers.get(m[1]!);
        if (!customer) throw noSuch('customer', m[1]!);
        return expand(customer, expandParam(params));
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/products$/,
      handle: (params) => {
        allow(params, ['active', 'limit', 'starting_after', 'expand', 'ids']);
        const active = bool(params, 'active');
        const all = [...products.values()]
          .filter((p) => active === undefined || p.active === active)
          .reverse();
        const result = list('/v1/products', all, params);
        return expand(result, expandParam(params));
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/products$/,
      handle: (params) => {
        allow(params, [
          'name',
          'description',
          'metadata',
          'active',
          'expand',
          'default_price_data',
        ]);
        const product = newProduct(str(params, 'name', true)!, {
          description: str(params, 'description') ?? null,
          metadata: metadata(params),
          active: bool(params, 'active') ?? true,
        });
        products.set(product.id as string, product);
        return expand(product, expandParam(params));
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/products\/([^/]+)$/,
      handle: (params, m) => {
        allow(params, ['expand']);
        const product = products.get(m[1]!);
        if (!product) throw noSuch('product', m[1]!);
        return expand(product, expandParam(params));
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/products\/([^/]+)$/,
      handle: (params, m) => {
        allow(params, ['default_price', 'active', 'name', 'metadata', 'expand']);
        const product = products.get(m[1]!);
        if (!product) throw noSuch('product', m[1]!);
        const defaultPrice = str(params, 'default_price');
        if (defaultPrice !== undefined) {
          if (prices.get(defaultPrice)?.product !== product.id)
            throw noSuch('price', defaultPrice, 'default_price');
          product.default_price = defaultPrice;
        }
        const active = bool(params, 'active');
        if (active !== undefined) product.active = active;
        const name = str(params, 'name');
        if (name !== undefined) product.name = name;
        if (params.metadata !== undefined)
          product.metadata = { ...(product.metadata as Json), ...metadata(params) };
        product.updated = now();
        return expand(product, expandParam(params));
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/prices$/,
      handle: (params) => {
        allow(params, [
          'active',
          'type',
          'product',
          'lookup_keys',
          'limit',
          'starting_after',
          'expand',
          'currency',
        ]);
        const active = bool(params, 'active');
        const type = str(params, 'type');
        const product = str(params, 'product');
        const lookupKeys = params.lookup_keys;
        if (lookupKeys !== undefined && !Array.isArray(lookupKeys)) throw invalid('lookup_keys');
        const all = [...prices.values()]
          .filter((p) => active === undefined || p.active === active)
          .filter((p) => type === undefined || p.type === type)
          .filter((p) => product === undefined || p.product === product)
          .filter(
            (p) => lookupKeys === undefined || (lookupKeys as unknown[]).includes(p.lookup_key),
          )
          .reverse();
        return expand(list('/v1/prices', all, params), expandParam(params));
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/prices$/,
      handle: (params) => {
        allow(params, [
          'product',
          'unit_amount',
          'currency',
          'recurring',
          'lookup_key',
          'metadata',
          'nickname',
          'active',
          'expand',
        ]);
        const productId = str(params, 'product', true)!;
        if (!products.has(productId)) throw noSuch('product', productId, 'product');
        const amount = int(params, 'unit_amount');
        if (amount === undefined) throw missing('unit_amount');
        const recurring = params.recurring as Params | undefined;
        if (recurring !== undefined)
          allow(recurring, ['interval', 'interval_count', 'trial_period_days', 'usage_type']);
        const lookupKey = str(params, 'lookup_key') ?? null;
        if (lookupKey !== null && [...prices.values()].some((p) => p.lookup_key === lookupKey)) {
          throw new StripeApiError(
            400,
            'invalid_request_error',
            'lookup_key_already_exists',
            'A price with this lookup_key already exists.',
            'lookup_key',
          );
        }
        const price = newPrice(
          productId,
          amount,
          str(params, 'currency', true)!,
          recurring ? str(recurring, 'interval', true)! : 'month',
          recurring ? int(recurring, 'trial_period_days') : undefined,
          {
            lookup_key: lookupKey,
            metadata: metadata(params),
            nickname: str(params, 'nickname') ?? null,
          },
        );
        if (recurring === undefined) Object.assign(price, { recurring: null, type: 'one_time' });
        prices.set(price.id as string, price);
        return expand(price, expandParam(params));
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/prices\/([^/]+)$/,
      handle: (params, m) => {
        allow(params, ['expand']);
        const price = prices.get(m[1]!);
        if (!price) throw noSuch('price', m[1]!);
        return expand(price, expandParam(params));
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/checkout\/sessions$/,
      handle: (params) => {
        allow(params, [
          'mode',
          'customer',
          'client_reference_id',
          'metadata',
          'line_items',
          'subscription_data',
          'success_url',
          'cancel_url',
          'allow_promotion_codes',
          'billing_address_collection',
          'expand',
        ]);
        if (str(params, 'mode', true) !== 'subscription') throw invalid('mode');
        const customer = str(params, 'customer', true)!;
        if (!customers.has(customer)) throw noSuch('customer', customer, 'customer');
        const successUrl = str(params, 'success_url', true)!;
        const lineItems = params.line_items;
        if (!Array.isArray(lineItems) || lineItems.length !== 1) throw invalid('line_items');
        const line = lineItems[0] as Params;
        allow(line, ['price', 'quantity']);
        const priceId = str(line, 'price', true)!;
        const price = prices.get(priceId);
        if (!price) throw noSuch('price', priceId, 'line_items[0][price]');
        if (price.type !== 'recurring') throw invalid('line_items[0][price]');
        const subscriptionData = (params.subscription_data ?? {}) as Params;
        allow(subscriptionData, ['trial_period_days', 'metadata']);
        const sessionId = id('cs_test', 40);
        const t = now();
        const session: Json = {
          id: sessionId,
          object: 'checkout.session',
          allow_promotion_codes: bool(params, 'allow_promotion_codes') ?? null,
          amount_subtotal: price.unit_amount,
          amount_total: price.unit_amount,
          billing_address_collection: str(params, 'billing_address_collection') ?? null,
          cancel_url: str(params, 'cancel_url') ?? null,
          client_reference_id: str(params, 'client_reference_id') ?? null,
          created: t,
          currency: price.currency,
          customer,
          customer_creation: null,
          customer_details: null,
          customer_email: null,
          expires_at: t + 86_400,
          invoice: null,
          livemode: false,
          locale: null,
          metadata: metadata(params),
          mode: 'subscription',
          payment_intent: null,
          payment_status: 'unpaid',
          status: 'open',
          subscription: null,
          success_url: successUrl,
          ui_mode: 'hosted',
          url: `https://checkout.stripe.com/c/pay/${sessionId}#fidkdWxOYHwnPyd1blpxYHZxWjA0`,
        };
        checkoutSessions.set(sessionId, session);
        sessionPrivate.set(sessionId, {
          priceId,
          quantity: int(line, 'quantity') ?? 1,
          trialDays: int(subscriptionData, 'trial_period_days'),
          subscriptionMetadata: metadata(subscriptionData),
        });
        return expand(session, expandParam(params));
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/checkout\/sessions\/([^/]+)$/,
      handle: (params, m) => {
        allow(params, ['expand']);
        const session = checkoutSessions.get(m[1]!);
        if (!session) throw noSuch('checkout.session', m[1]!, 'session');
        return expand(session, expandParam(params));
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/billing_portal\/sessions$/,
      handle: (params) => {
        allow(params, ['customer', 'return_url', 'configuration', 'locale', 'expand']);
        const customer = str(params, 'customer', true)!;
        if (!customers.has(customer)) throw noSuch('customer', customer, 'customer');
        const session: Json = {
          id: id('bps'),
          object: 'billing_portal.session',
          configuration: 'bpc_fakeDefaultConfiguration',
          created: now(),
          customer,
          flow: null,
          livemode: false,
          locale: str(params, 'locale') ?? null,
          on_behalf_of: null,
          return_url: str(params, 'return_url') ?? null,
          url: `https://billing.stripe.com/p/session/test_${randomBytes(18).toString('base64url')}`,
        };
        portalSessions.set(session.id as string, session);
        return session;
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/subscriptions\/([^/]+)$/,
      handle: (params, m) => {
        allow(params, ['expand']);
        const subscription = subscriptions.get(m[1]!);
        if (!subscription) throw noSuch('subscription', m[1]!);
        return expand(subscription, expandParam(params));
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/subscriptions\/([^/]+)$/,
      handle: (params, m) => {
        allow(params, ['cancel_at_period_end', 'metadata', 'expand', 'proration_behavior']);
        const subscription = subscriptions.get(m[1]!);
        if (!subscription) throw noSuch('subscription', m[1]!);
        refuseEnded(subscription);
        const cancelAtPeriodEnd = bool(params, 'cancel_at_period_end');
        if (cancelAtPeriodEnd !== undefined) {
          // As Stripe: a pending cancel sets cancel_at to the period's end and canceled_at to
          // when it was asked for; undoing it clears both.
          subscription.cancel_at_period_end = cancelAtPeriodEnd;
          subscription.cancel_at = cancelAtPeriodEnd ? periodEndOf(subscription) : null;
          subscription.canceled_at = cancelAtPeriodEnd ? now() : null;
        }
        if (params.metadata !== undefined)
          subscription.metadata = { ...(subscription.metadata as Json), ...metadata(params) };
        return expand(subscription, expandParam(params));
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/subscription_items\/([^/]+)$/,
      handle: (params, m) => {
        allow(params, ['expand']);
        const found = findItem(m[1]!);
        return expand(found.item, expandParam(params));
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/subscription_items\/([^/]+)$/,
      handle: (params, m) => {
        // SubscriptionItemUpdateParams (stripe 23): the ones this fake implements; others 400.
        allow(params, [
          'quantity',
          'proration_behavior',
          'proration_date',
          'payment_behavior',
          'metadata',
          'expand',
        ]);
        const { item, subscription } = findItem(m[1]!);
        refuseEnded(subscription);
        const proration = str(params, 'proration_behavior');
        if (
          proration !== undefined &&
          !['always_invoice', 'create_prorations', 'none'].includes(proration)
        ) {
          throw invalid('proration_behavior');
        }
        const payment = str(params, 'payment_behavior');
        if (
          payment !== undefined &&
          ![
            'allow_incomplete',
            'default_incomplete',
            'error_if_incomplete',
            'pending_if_incomplete',
          ].includes(payment)
        ) {
          throw invalid('payment_behavior');
        }
        int(params, 'proration_date');
        const quantity = int(params, 'quantity');
        if (quantity !== undefined) {
          if (quantity < 0) throw invalid('quantity');
          item.quantity = quantity;
        }
        if (params.metadata !== undefined)
          item.metadata = { ...(item.metadata as Json), ...metadata(params) };
        return expand(item, expandParam(params));
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/invoices$/,
      handle: (params) => {
        // InvoiceListParams (stripe 23): customer, subscription, status filters; newest first.
        allow(params, [
          'customer',
          'subscription',
          'status',
          'collection_method',
          'limit',
          'starting_after',
          'ending_before',
          'expand',
        ]);
        const customer = str(params, 'customer');
        const subscription = str(params, 'subscription');
        const status = str(params, 'status');
        if (
          status !== undefined &&
          !['draft', 'open', 'paid', 'uncollectible', 'void'].includes(status)
        ) {
          throw invalid('status');
        }
        const collection = str(params, 'collection_method');
        const all = [...invoices.values()]
          .filter((i) => customer === undefined || i.customer === customer)
          .filter((i) => subscription === undefined || subscriptionOfInvoice(i) === subscription)
          .filter((i) => status === undefined || i.status === status)
          .filter((i) => collection === undefined || i.collection_method === collection)
          .sort((a, b) => (b.created as number) - (a.created as number));
        return expand(list('/v1/invoices', all, params), expandParam(params));
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/invoices\/([^/]+)$/,
      handle: (params, m) => {
        allow(params, ['expand']);
        const invoice = invoices.get(m[1]!);
        if (!invoice) throw noSuch('invoice', m[1]!);
        return expand(invoice, expandParam(params));
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/entitlements\/active_entitlements$/,
      handle: (params) => {
        // Entitlements.ActiveEntitlementListParams: customer (required) + pagination.
        allow(params, ['customer', 'limit', 'starting_after', 'ending_before', 'expand']);
        const customer = str(params, 'customer', true)!;
        if (!customers.has(customer)) throw noSuch('customer', customer, 'customer');
        return expand(
          list('/v1/entitlements/active_entitlements', activeEntitlements(customer), params),
          expandParam(params),
        );
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/v1\/subscriptions\/([^/]+)$/,
      handle: (params, m) => {
        allow(params, ['expand', 'invoice_now', 'prorate']);
        const subscription = subscriptions.get(m[1]!);
        if (!subscription) throw noSuch('subscription', m[1]!);
        if (subscription.status === 'canceled') {
          throw new StripeApiError(
            400,
            'invalid_request_error',
            'resource_missing',
            `No such subscription: '${m[1]!}'`,
            'id',
          );
        }
        return expand(updateSubscription(m[1]!, { status: 'canceled' }), expandParam(params));
      },
    },
  ];

  function send(res: ServerResponse, status: number, body: Json): void {
    const text = JSON.stringify(body, null, 2);
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      'Request-Id': id('req'),
      'Stripe-Version': '2026-10-28.endive',
    });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake-stripe');
    const method = req.method ?? 'GET';
    try {
      if (req.headers.authorization !== `Bearer ${secretKey}`) {
        throw new StripeApiError(
          401,
          'invalid_request_error',
          undefined,
          'Invalid API Key provided.',
        );
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const params = parseStripeParams(
        method === 'POST' ? new URLSearchParams(body) : url.searchParams,
      );
      const key =
        typeof req.headers['idempotency-key'] === 'string'
          ? req.headers['idempotency-key']
          : undefined;
      const request: FakeRequest = { method, path: url.pathname, params, idempotencyKey: key };
      requests.push(request);
      const failure = failures.find(
        (f) =>
          f.times > 0 &&
          f.method === method &&
          (typeof f.path === 'string' ? f.path === url.pathname : f.path.test(url.pathname)),
      );
      if (failure) {
        failure.times -= 1;
        request.failedWith = failure.with;
        if (failure.with === 'hang') {
          hung.add(res);
          res.on('close', () => hung.delete(res));
          return;
        }
        send(res, failure.with, {
          error: {
            type: 'api_error',
            message: 'An unknown error occurred (injected by the fake).',
          },
        });
        return;
      }
      const route = routes.find((r) => r.method === method && r.pattern.test(url.pathname));
      if (!route) {
        throw new StripeApiError(
          404,
          'invalid_request_error',
          undefined,
          `Unrecognized request URL (${method}: ${url.pathname}).`,
        );
      }
      // Stripe replays the first response for a repeated POST with the same Idempotency-Key.
      const fingerprint = `${method} ${url.pathname} ${body}`;
      if (method === 'POST' && key !== undefined) {
        const previous = idempotent.get(key);
        if (previous) {
          if (previous.fingerprint !== fingerprint) {
            // Stripe's answer (no `code`): type idempotency_error, HTTP 400.
            throw new StripeApiError(
              400,
              'idempotency_error',
              undefined,
              `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
            );
          }
          request.replayed = true;
          res.setHeader('Idempotent-Replayed', 'true');
          send(res, previous.status, previous.body);
          return;
        }
      }
      const result = route.handle(params, route.pattern.exec(url.pathname)!, key);
      if (method === 'POST' && key !== undefined)
        idempotent.set(key, { status: 200, body: result, fingerprint });
      send(res, 200, result);
    } catch (error) {
      if (error instanceof StripeApiError) {
        send(res, error.status, {
          error: {
            type: error.type,
            ...(error.code !== undefined && { code: error.code }),
            message: error.message,
            ...(error.param !== undefined && { param: error.param }),
            ...(error.code !== undefined && {
              doc_url: `https://stripe.com/docs/error-codes/${error.code.replace(/_/g, '-')}`,
            }),
          },
        });
      } else {
        send(res, 500, { error: { type: 'api_error', message: String(error) } });
      }
    }
  }

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    customers,
    products,
    prices,
    subscriptions,
    checkoutSessions,
    portalSessions,
    invoices,
    features,
    createPlan({
      name,
      amount,
      currency = 'usd',
      interval = 'month',
      trialDays,
      active = true,
      perSeat,
      productMetadata = {},
      features: lookupKeys = [],
    }) {
      const product = newProduct(name, { active, metadata: { ...productMetadata } });
      const price = newPrice(product.id as string, amount, currency, interval, undefined, {
        metadata: {
          ...(trialDays === undefined ? {} : { trial_days: String(trialDays) }),
          ...(perSeat ? { per_seat: 'true' } : {}),
        },
      });
      product.default_price = price.id;
      products.set(product.id as string, product);
      prices.set(price.id as string, price);
      for (const key of lookupKeys) attachFeatureTo(product.id as string, key);
      return { product, price };
    },
    feature,
    attachFeature: (productId, lookupKey) => attachFeatureTo(productId, lookupKey),
    detachFeature(productId, lookupKey) {
      const featureId = feature(lookupKey).id as string;
      productFeatures.set(
        productId,
        (productFeatures.get(productId) ?? []).filter((f) => f !== featureId),
      );
    },
    activeEntitlementSummary(customerId) {
      const data = activeEntitlements(customerId);
      return {
        object: 'entitlements.active_entitlement_summary',
        customer: customerId,
        entitlements: {
          object: 'list',
          data,
          has_more: false,
          url: '/v1/entitlements/active_entitlements',
        },
        livemode: false,
      };
    },
    createInvoice,
    failInvoicePayment(invoiceId) {
      const invoice = invoices.get(invoiceId);
      if (!invoice) throw new Error(`fake-stripe: no invoice ${invoiceId}`);
      if (invoice.status !== 'open')
        throw new Error('fake-stripe: only an open invoice is attempted');
      invoice.attempt_count = (invoice.attempt_count as number) + 1;
      invoice.attempted = true;
      invoice.next_payment_attempt = now() + 3 * 86_400;
      return invoice;
    },
    failNext(method, path, options = {}) {
      failures.push({ method, path, times: options.times ?? 1, with: options.with ?? 500 });
    },
    completeCheckout(sessionId, status = 'active') {
      const session = checkoutSessions.get(sessionId);
      const extra = sessionPrivate.get(sessionId);
      if (!session || !extra) throw new Error(`fake-stripe: no checkout session ${sessionId}`);
      const subscription = createSubscription(
        session.customer as string,
        extra.priceId,
        status,
        extra.trialDays,
        extra.subscriptionMetadata,
        extra.quantity,
      );
      Object.assign(session, {
        status: 'complete',
        payment_status: subscription.status === 'trialing' ? 'no_payment_required' : 'paid',
        subscription: subscription.id,
        customer_details: { email: 'payer@example.test', name: null },
      });
      return subscription;
    },
    createSubscription: (customerId, priceId, status, quantity) =>
      createSubscription(customerId, priceId, status, undefined, {}, quantity),
    updateSubscription,
    event(type, object, options = {}) {
      return {
        id: options.id ?? id('evt', 24),
        object: 'event',
        api_version: '2026-10-28.endive',
        created: options.created ?? now(),
        data: {
          object: structuredClone(object),
          ...(options.previousAttributes && { previous_attributes: options.previousAttributes }),
        },
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        type,
      };
    },
    sign(event, options = {}) {
      const payload = typeof event === 'string' ? event : JSON.stringify(event, null, 2);
      const header = signer.webhooks.generateTestHeaderString({
        payload,
        secret: options.secret ?? FAKE_WEBHOOK_SECRET,
        ...(options.timestamp !== undefined && { timestamp: options.timestamp }),
      });
      return { payload, header };
    },
    count(method, path) {
      return requests.filter(
        (r) =>
          r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)),
      ).length;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const res of hung) res.destroy();
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
