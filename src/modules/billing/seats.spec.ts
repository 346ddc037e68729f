import { describe, expect, it } from '@jest/globals';
import type { SeatState } from '../teams/teams.service.js';
import { decideSeatSync, seatIdempotencyKey } from './seats.js';

const base: SeatState = {
  perSeat: true,
  stripeSubscriptionItemId: 'si_1',
  subscriptionStatus: 'active',
  membershipVersion: 7,
  seatsBilledVersion: 6,
  members: 4,
};

describe('seatIdempotencyKey', () => {
  it('is the same for the same team, item and version, and differs otherwise', () => {
    expect(seatIdempotencyKey(3, 'si_1', 7)).toBe('nest-saas:seats:3:si_1:v7');
    expect(seatIdempotencyKey(3, 'si_1', 7)).toBe(seatIdempotencyKey(3, 'si_1', 7));
    const keys = new Set([
      seatIdempotencyKey(3, 'si_1', 7),
      seatIdempotencyKey(3, 'si_1', 8),
      seatIdempotencyKey(4, 'si_1', 7),
      seatIdempotencyKey(3, 'si_2', 7),
      // No two (team, version) pairs may collide by concatenation.
      seatIdempotencyKey(31, 'si_1', 7),
    ]);
    expect(keys.size).toBe(5);
  });
});

describe('decideSeatSync', () => {
  it.each<[string, SeatState | undefined, ReturnType<typeof decideSeatSync>]>([
    [
      'sends the current count at the current version',
      base,
      { send: true, itemId: 'si_1', quantity: 4, version: 7 },
    ],
    [
      'sends when nothing was confirmed yet',
      { ...base, seatsBilledVersion: null },
      { send: true, itemId: 'si_1', quantity: 4, version: 7 },
    ],
    [
      'does nothing once this version is confirmed',
      { ...base, seatsBilledVersion: 7 },
      { send: false, reason: 'already_confirmed' },
    ],
    [
      'does nothing when a newer version is confirmed',
      { ...base, seatsBilledVersion: 9 },
      { send: false, reason: 'already_confirmed' },
    ],
    ['not per seat', { ...base, perSeat: false }, { send: false, reason: 'not_per_seat' }],
    [
      'no subscription item',
      { ...base, stripeSubscriptionItemId: null },
      { send: false, reason: 'no_item' },
    ],
    [
      'ended subscription',
      { ...base, subscriptionStatus: 'canceled' },
      { send: false, reason: 'not_live' },
    ],
    ['no subscription', { ...base, subscriptionStatus: null }, { send: false, reason: 'not_live' }],
    [
      'trialing is live',
      { ...base, subscriptionStatus: 'trialing' },
      { send: true, itemId: 'si_1', quantity: 4, version: 7 },
    ],
    [
      'never below one seat',
      { ...base, members: 0 },
      { send: true, itemId: 'si_1', quantity: 1, version: 7 },
    ],
    ['team gone', undefined, { send: false, reason: 'no_team' }],
  ])('%s', (_name, state, expected) => {
    expect(decideSeatSync(state)).toEqual(expected);
  });
});
