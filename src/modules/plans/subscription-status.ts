// The one definition of Stripe subscription statuses and which of them count as live. Part of
// the public surface of billing (which re-exports it) and plans (whose limit decision reads it):
// nothing else spells the statuses out. Pinned by billing/subscription-status.spec.ts.

/** Every status a Stripe subscription can have (API 2026-10-28). */
export const SUBSCRIPTION_STATUSES = [
  'trialing',
  'active',
  'past_due',
  'unpaid',
  'paused',
  'incomplete',
  'incomplete_expired',
  'canceled',
] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** A subscription in one of these never changes status again (Stripe's lifecycle). */
export const TERMINAL_STATUSES: readonly string[] = ['canceled', 'incomplete_expired'];

/**
 * A subscription that still exists and can bill (or resume billing): checkout is refused
 * (use the portal), the only owner cannot delete their account while a team is in one, and the
 * admin dashboard counts the team as subscribed.
 */
export const LIVE_STATUSES: readonly string[] = [
  'trialing',
  'active',
  'past_due',
  'unpaid',
  'paused',
];

/**
 * A subscription Stripe is charging: `active`, and `past_due` (Stripe is retrying a payment).
 * Not a trial (nothing charged yet), nor `unpaid`/`paused`/`incomplete`. The admin dashboard
 * counts the paying seats of these.
 */
export const PAYING_STATUSES: readonly string[] = ['active', 'past_due'];

export const isTerminalStatus = (status: string | null): boolean =>
  status !== null && TERMINAL_STATUSES.includes(status);
export const isLiveStatus = (status: string | null): boolean =>
  status !== null && LIVE_STATUSES.includes(status);
