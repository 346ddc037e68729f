import { describe, expect, it } from '@jest/globals';
import {
  isLiveStatus,
  isTerminalStatus,
  LIVE_STATUSES,
  PAYING_STATUSES,
  SUBSCRIPTION_STATUSES,
  TERMINAL_STATUSES,
} from './subscription-status.js';

// Pins the sets: checkout refusal, account deletion and the admin dashboard all read them, so
// a change here is a change of all three and must be deliberate.
describe('subscription statuses', () => {
  it('lists every Stripe status, once', () => {
    expect([...SUBSCRIPTION_STATUSES].sort()).toEqual(
      [
        'active',
        'canceled',
        'incomplete',
        'incomplete_expired',
        'past_due',
        'paused',
        'trialing',
        'unpaid',
      ].sort(),
    );
  });

  it('live: the statuses that can still bill', () => {
    expect([...LIVE_STATUSES]).toEqual(['trialing', 'active', 'past_due', 'unpaid', 'paused']);
    expect(SUBSCRIPTION_STATUSES.filter((s) => isLiveStatus(s))).toEqual([...LIVE_STATUSES]);
    expect(isLiveStatus(null)).toBe(false);
    expect(isLiveStatus('TRIALING')).toBe(false);
  });

  it('terminal: the statuses that never change again', () => {
    expect([...TERMINAL_STATUSES]).toEqual(['canceled', 'incomplete_expired']);
    expect(SUBSCRIPTION_STATUSES.filter((s) => isTerminalStatus(s))).toEqual([
      'incomplete_expired',
      'canceled',
    ]);
    expect(isTerminalStatus(null)).toBe(false);
  });

  it('no status is both live and terminal; incomplete is neither', () => {
    expect(LIVE_STATUSES.filter((s) => TERMINAL_STATUSES.includes(s))).toEqual([]);
    // Paying (the dashboard's paying seats) is live and charged: no trial.
    expect([...PAYING_STATUSES]).toEqual(['active', 'past_due']);
    expect(PAYING_STATUSES.every((s) => isLiveStatus(s))).toBe(true);
    expect(isLiveStatus('incomplete')).toBe(false);
    expect(isTerminalStatus('incomplete')).toBe(false);
  });
});
