import type { SeatState } from '../teams/teams.service.js';
import { isLiveStatus } from './subscription-status.js';

// The pure half of the seat sync (SeatSyncWorker does the I/O), unit-tested in seats.spec.ts.

/**
 * Stripe's Idempotency-Key for setting a team's seat count at one membership version: a
 * retried job, or two workers running the same version, send the same key with the same
 * quantity, so Stripe applies (and prorates) it once. The item id keeps two subscriptions
 * (and two databases sharing a Stripe test account) apart; Stripe forgets keys after 24 h.
 */
export function seatIdempotencyKey(teamId: number, itemId: string, version: number): string {
  return `nest-saas:seats:${teamId}:${itemId}:v${version}`;
}

export type SeatDecision =
  | { send: true; itemId: string; quantity: number; version: number }
  | {
      send: false;
      reason: 'no_team' | 'not_per_seat' | 'no_item' | 'not_live' | 'already_confirmed';
    };

/**
 * Whether the seat job sends the count it read. It always reads the team's current version
 * and count (not the ones of the change that queued it), so the latest count wins; a version
 * Stripe already confirmed (seatsBilledVersion at or past it) needs nothing. Only a live
 * subscription (trialing, active, past_due, unpaid, paused) can change its quantity.
 */
export function decideSeatSync(state: SeatState | undefined): SeatDecision {
  if (state === undefined) return { send: false, reason: 'no_team' };
  if (!state.perSeat) return { send: false, reason: 'not_per_seat' };
  if (state.stripeSubscriptionItemId === null) return { send: false, reason: 'no_item' };
  if (!isLiveStatus(state.subscriptionStatus)) return { send: false, reason: 'not_live' };
  if (state.seatsBilledVersion !== null && state.seatsBilledVersion >= state.membershipVersion) {
    return { send: false, reason: 'already_confirmed' };
  }
  return {
    send: true,
    itemId: state.stripeSubscriptionItemId,
    // A team always has an owner; Stripe bills at least one seat of a per-seat price anyway.
    quantity: Math.max(1, state.members),
    version: state.membershipVersion,
  };
}
