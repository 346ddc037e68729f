import type Stripe from 'stripe';
import { parseId } from '../../common/ids.js';
import { PLAN_LIMIT_KEYS, parseLimitValue } from '../../config/plan-limits-config.js';
import type { PlanLimits } from '../../database/schema.js';
import { samePlanLimits } from '../plans/plan-limits.js';
import { isTerminalStatus } from './subscription-status.js';

// Pure functions from Stripe objects to our rows and decisions. No I/O, unit-tested in
// billing.mappers.spec.ts; the services only fetch, lock and write.

export interface Plan {
  productId: string;
  name: string;
  priceId: string;
  amount: number;
  currency: string;
  interval: string;
  trialDays: number;
}

const MAX_TRIAL_DAYS = 730;

function parseTrialDays(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,3}$/.test(value.trim())) return undefined;
  const days = Number(value.trim());
  return days <= MAX_TRIAL_DAYS ? days : undefined;
}

/**
 * Trial days of a price: `metadata.trial_days` on the price (how ensureDemoProducts and the
 * Dashboard set it now that price-level trials are legacy), else the legacy
 * `recurring.trial_period_days`, else the product's `metadata.trial_days`, else 0 (no trial).
 */
export function trialDaysOf(price: Stripe.Price, product?: Stripe.Product): number {
  return (
    parseTrialDays(price.metadata.trial_days) ??
    price.recurring?.trial_period_days ??
    parseTrialDays(product?.metadata.trial_days) ??
    0
  );
}

const productOf = (price: Stripe.Price): Stripe.Product | undefined =>
  typeof price.product === 'object' && price.product.deleted !== true ? price.product : undefined;

/** The id of an expandable Stripe field (an id string, or the expanded object). */
export const idOf = (value: string | { id: string } | null | undefined): string | undefined =>
  value === null || value === undefined ? undefined : typeof value === 'string' ? value : value.id;

/**
 * The plans offered: one entry per active product, with its default price when that is an
 * active licensed recurring price with a fixed amount, else its newest such price. Prices
 * must come with `product` expanded. Sorted by amount, then name.
 */
export function toPlans(prices: readonly Stripe.Price[]): Plan[] {
  const best = new Map<string, { price: Stripe.Price; product: Stripe.Product }>();
  for (const price of prices) {
    const product = productOf(price);
    if (
      !product?.active ||
      !price.active ||
      price.type !== 'recurring' ||
      price.recurring === null ||
      price.recurring.usage_type !== 'licensed' ||
      price.unit_amount === null
    ) {
      continue;
    }
    const current = best.get(product.id);
    const isDefault = idOf(product.default_price) === price.id;
    const currentIsDefault =
      current !== undefined && idOf(product.default_price) === current.price.id;
    if (
      current === undefined ||
      (isDefault && !currentIsDefault) ||
      (!currentIsDefault && price.created > current.price.created)
    ) {
      best.set(product.id, { price, product });
    }
  }
  return [...best.values()]
    .map(({ price, product }) => ({
      productId: product.id,
      name: product.name,
      priceId: price.id,
      amount: price.unit_amount ?? 0,
      currency: price.currency,
      interval: price.recurring?.interval ?? 'month',
      trialDays: trialDaysOf(price, product),
    }))
    .sort((a, b) => a.amount - b.amount || a.name.localeCompare(b.name));
}

/** The team columns a subscription determines. */
export interface SubscriptionFields {
  stripeSubscriptionId: string;
  stripeProductId: string | null;
  planName: string | null;
  subscriptionStatus: string;
  /** The product's `metadata.max_*`; null: not known, or no live subscription (free plan). */
  planLimits: PlanLimits | null;
  perSeat: boolean;
  stripeSubscriptionItemId: string | null;
  cancelAtPeriodEnd: boolean;
  currentPeriodEnd: Date | null;
}

/** What we need from a subscription, whichever way it reached us (event, API). */
export interface SubscriptionSnapshot {
  subscriptionId: string;
  customerId: string;
  status: string;
  /** The first item's product: an id, or the expanded product (with its metadata). */
  product: string | { id: string; name: string; metadata?: Record<string, string> } | null;
  /** The first item's price says `metadata.per_seat = 'true'`. */
  perSeat: boolean;
  /** The first item (the one whose quantity follows the member count when per seat). */
  itemId: string | null;
  cancelAtPeriodEnd: boolean;
  /** The first item's `current_period_end` (Unix s; per item since API 2025-03-31). */
  currentPeriodEnd: number | null;
}

export function toSnapshot(subscription: Stripe.Subscription): SubscriptionSnapshot {
  // Our checkouts create single-item subscriptions; the first item names the plan.
  const item = subscription.items.data[0];
  const product = item?.price.product;
  return {
    subscriptionId: subscription.id,
    customerId: idOf(subscription.customer) ?? '',
    status: subscription.status,
    product:
      product === undefined
        ? null
        : typeof product === 'string'
          ? product
          : 'name' in product
            ? { id: product.id, name: product.name, metadata: { ...product.metadata } }
            : { id: product.id, name: product.id },
    perSeat: item?.price.metadata.per_seat === 'true',
    itemId: item?.id ?? null,
    cancelAtPeriodEnd: subscription.cancel_at_period_end,
    currentPeriodEnd: item?.current_period_end ?? null,
  };
}

/**
 * A product's limits from its metadata (`max_members`, `max_api_keys`, `max_webhooks`): a whole
 * number sets the limit; a key that is absent or not a whole number leaves it unlimited (a typo
 * in the Dashboard must not lock a paying team out).
 */
export function planLimitsFromMetadata(metadata: Record<string, string>): PlanLimits {
  const limits: PlanLimits = {};
  for (const [key, field] of Object.entries(PLAN_LIMIT_KEYS)) {
    const raw = metadata[key];
    const value = raw === undefined ? undefined : parseLimitValue(raw);
    if (value !== undefined) limits[field] = value;
  }
  return limits;
}

/** Whether the product (its name and metadata) must be fetched before the snapshot can be mapped. */
export function needsProductName(snapshot: SubscriptionSnapshot): string | undefined {
  return typeof snapshot.product === 'string' && !isTerminalStatus(snapshot.status)
    ? snapshot.product
    : undefined;
}

/** planName is varchar(50); subscriptionStatus varchar(20). */
const PLAN_NAME_MAX = 50;
const STATUS_MAX = 20;

/**
 * Maps a subscription onto the team's columns. Every status is stored as Stripe names it.
 * A subscription that has ended (canceled, incomplete_expired) keeps its id on the team, so
 * late events for it are recognised, but no longer names a plan (product and planName null).
 * Every other status (trialing, active, past_due, unpaid, paused, incomplete) keeps the plan:
 * the subscription exists, and what access each status grants is the product's decision.
 */
export function toSubscriptionFields(
  snapshot: SubscriptionSnapshot,
  productName?: string,
  productMetadata?: Record<string, string>,
): SubscriptionFields {
  const status = snapshot.status.slice(0, STATUS_MAX);
  if (isTerminalStatus(snapshot.status)) {
    // Ended: no plan, no limits of its own (the free plan's apply), nothing to bill per seat.
    return {
      stripeSubscriptionId: snapshot.subscriptionId,
      stripeProductId: null,
      planName: null,
      subscriptionStatus: status,
      planLimits: null,
      perSeat: false,
      stripeSubscriptionItemId: null,
      cancelAtPeriodEnd: false,
      currentPeriodEnd: null,
    };
  }
  const product = snapshot.product;
  const productId = idOf(product) ?? null;
  const expanded = typeof product === 'object' && product !== null ? product : undefined;
  const name = expanded ? expanded.name : productName;
  const metadata = expanded?.metadata ?? productMetadata;
  return {
    stripeSubscriptionId: snapshot.subscriptionId,
    stripeProductId: productId,
    planName: name === undefined ? null : name.slice(0, PLAN_NAME_MAX),
    subscriptionStatus: status,
    // Metadata not at hand (a product neither expanded nor fetched): the free plan's limits
    // until a snapshot that carries it.
    planLimits: metadata === undefined ? null : planLimitsFromMetadata(metadata),
    perSeat: snapshot.perSeat,
    stripeSubscriptionItemId: snapshot.itemId,
    cancelAtPeriodEnd: snapshot.cancelAtPeriodEnd,
    currentPeriodEnd:
      snapshot.currentPeriodEnd === null ? null : new Date(snapshot.currentPeriodEnd * 1000),
  };
}

/**
 * Whether writing `next` would change the team's subscription columns. An event that only
 * repeats the current state (Stripe's `updated` for a field we do not store, the checkout
 * redirect after the webhook) changes nothing, so it writes no UPDATE_SUBSCRIPTION row.
 */
export function subscriptionFieldsChanged(
  current: { [K in keyof SubscriptionFields]: SubscriptionFields[K] | null },
  next: SubscriptionFields,
): boolean {
  return (
    current.stripeSubscriptionId !== next.stripeSubscriptionId ||
    current.stripeProductId !== next.stripeProductId ||
    current.planName !== next.planName ||
    current.subscriptionStatus !== next.subscriptionStatus ||
    !samePlanLimits(current.planLimits, next.planLimits) ||
    current.perSeat !== next.perSeat ||
    current.stripeSubscriptionItemId !== next.stripeSubscriptionItemId ||
    current.cancelAtPeriodEnd !== next.cancelAtPeriodEnd ||
    (current.currentPeriodEnd?.getTime() ?? null) !== (next.currentPeriodEnd?.getTime() ?? null)
  );
}

export type ApplyDecision =
  | { apply: true }
  | { apply: false; reason: 'stale' | 'subscription_ended' | 'other_subscription_ended' };

/**
 * Whether a subscription snapshot taken at `asOf` (Unix seconds: the event's `created`)
 * may overwrite the team's current state. Evaluated while the team row is locked.
 *
 * - Older than the newest event already applied to the team → stale, skipped.
 *   Ties (same second; Stripe's clock has one-second resolution and created/updated often
 *   share a second) are applied, i.e. the later delivery wins, except:
 * - the team's subscription has ended and the snapshot is the same subscription in a
 *   non-ended status → skipped (an ended subscription never comes back to life);
 * - the snapshot is another subscription that has ended while the team's current one has
 *   not → skipped (a previous subscription's cancellation must not replace the new one).
 */
export function decideApply(
  team: {
    stripeSubscriptionId: string | null;
    subscriptionStatus: string | null;
    lastAppliedAt: number | null;
  },
  incoming: { subscriptionId: string; status: string },
  asOf: number,
): ApplyDecision {
  if (team.lastAppliedAt !== null && asOf < team.lastAppliedAt) {
    return { apply: false, reason: 'stale' };
  }
  const sameSubscription = team.stripeSubscriptionId === incoming.subscriptionId;
  if (
    sameSubscription &&
    isTerminalStatus(team.subscriptionStatus) &&
    !isTerminalStatus(incoming.status)
  ) {
    return { apply: false, reason: 'subscription_ended' };
  }
  if (
    !sameSubscription &&
    team.stripeSubscriptionId !== null &&
    team.subscriptionStatus !== null &&
    !isTerminalStatus(team.subscriptionStatus) &&
    isTerminalStatus(incoming.status)
  ) {
    return { apply: false, reason: 'other_subscription_ended' };
  }
  return { apply: true };
}

/**
 * The team a checkout session belongs to: `client_reference_id` and `metadata.teamId` are both
 * set by us and must agree; anything else is not a session of ours.
 */
export function teamIdOfCheckoutSession(session: Stripe.Checkout.Session): number | undefined {
  const reference = session.client_reference_id;
  const fromMetadata = session.metadata?.teamId;
  if (reference === null) return undefined;
  if (fromMetadata !== undefined && fromMetadata !== reference) return undefined;
  return parseId(reference);
}
