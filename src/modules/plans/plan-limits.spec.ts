import { describe, expect, it } from '@jest/globals';
import type { PlanLimits } from '../../database/schema.js';
import {
  decideRoom,
  effectiveLimits,
  formatPlanOverride,
  parsePlanOverride,
  samePlanLimits,
  type Resource,
  type RoomVerdict,
  type TeamPlanState,
} from './plan-limits.js';

const FREE: PlanLimits = { maxMembers: 3, maxApiKeys: 0 };
const PRO: PlanLimits = { maxMembers: 10, maxApiKeys: 5, maxWebhooks: 2 };
const DEAL: PlanLimits = { maxMembers: 100 };

const team = (state: Partial<TeamPlanState>): TeamPlanState => ({
  subscriptionStatus: null,
  planLimits: null,
  planOverride: null,
  ...state,
});

describe('effectiveLimits: override, live plan, free plan', () => {
  // prettier-ignore
  const cases: [string, TeamPlanState, PlanLimits, ReturnType<typeof effectiveLimits>][] = [
    ['never subscribed: the free plan',
      team({}), FREE,
      { source: 'free', limits: { maxMembers: 3, maxApiKeys: 0, maxWebhooks: null } }],
    ['an active plan: its product limits',
      team({ subscriptionStatus: 'active', planLimits: PRO }), FREE,
      { source: 'plan', limits: { maxMembers: 10, maxApiKeys: 5, maxWebhooks: 2 } }],
    ['a trial, past_due, unpaid, paused or incomplete plan still names the plan',
      team({ subscriptionStatus: 'past_due', planLimits: PRO }), FREE,
      { source: 'plan', limits: { maxMembers: 10, maxApiKeys: 5, maxWebhooks: 2 } }],
    ['a product without limit metadata: unlimited',
      team({ subscriptionStatus: 'active', planLimits: {} }), FREE,
      { source: 'plan', limits: { maxMembers: null, maxApiKeys: null, maxWebhooks: null } }],
    ['a canceled subscription: the free plan, whatever the row still holds',
      team({ subscriptionStatus: 'canceled', planLimits: PRO }), FREE,
      { source: 'free', limits: { maxMembers: 3, maxApiKeys: 0, maxWebhooks: null } }],
    ['incomplete_expired: the free plan',
      team({ subscriptionStatus: 'incomplete_expired', planLimits: PRO }), FREE,
      { source: 'free', limits: { maxMembers: 3, maxApiKeys: 0, maxWebhooks: null } }],
    ['a live subscription whose limits are not known yet: the free plan',
      team({ subscriptionStatus: 'active', planLimits: null }), FREE,
      { source: 'free', limits: { maxMembers: 3, maxApiKeys: 0, maxWebhooks: null } }],
    ['an override wins over the plan (absent keys unlimited)',
      team({ subscriptionStatus: 'active', planLimits: PRO, planOverride: DEAL }), FREE,
      { source: 'override', limits: { maxMembers: 100, maxApiKeys: null, maxWebhooks: null } }],
    ['an override wins over the free plan',
      team({ planOverride: { maxMembers: 1, maxApiKeys: null } }), FREE,
      { source: 'override', limits: { maxMembers: 1, maxApiKeys: null, maxWebhooks: null } }],
    ['FREE_PLAN_LIMITS unset: unlimited',
      team({}), {},
      { source: 'free', limits: { maxMembers: null, maxApiKeys: null, maxWebhooks: null } }],
  ];

  it.each(cases)('%s', (_name, state, free, expected) => {
    expect(effectiveLimits(state, free)).toEqual(expected);
  });
});

describe('decideRoom: one more fits, or the limit with its use', () => {
  const limits = { maxMembers: 5, maxApiKeys: 0, maxWebhooks: null };
  // prettier-ignore
  const cases: [string, Resource, number, RoomVerdict][] = [
    ['room left',                        'members',  4, { allowed: true }],
    ['exactly full',                     'members',  5, { allowed: false, limit: 'max_members', max: 5, used: 5 }],
    ['a lowered plan, usage above max',  'members',  8, { allowed: false, limit: 'max_members', max: 5, used: 8 }],
    ['a limit of 0',                     'apiKeys',  0, { allowed: false, limit: 'max_api_keys', max: 0, used: 0 }],
    ['unlimited',                        'webhooks', 1_000, { allowed: true }],
  ];

  it.each(cases)('%s', (_name, resource, used, expected) => {
    expect(decideRoom(limits, resource, used)).toEqual(expected);
  });
});

describe('the back office override', () => {
  it.each([
    ['', null],
    ['  ', null],
    ['{}', {}],
    ['{"max_members": 10, "max_api_keys": null}', { maxMembers: 10, maxApiKeys: null }],
    ['{"max_webhooks": 0}', { maxWebhooks: 0 }],
  ])('accepts %j', (text, limits) => {
    expect(parsePlanOverride(text)).toEqual({ ok: true, limits });
  });

  it.each([
    ['not JSON', '{max_members: 1}'],
    ['an array', '[1]'],
    ['a number', '5'],
    ['an unknown key', '{"maxMembers": 1}'],
    ['a negative number', '{"max_members": -1}'],
    ['a fraction', '{"max_members": 1.5}'],
    ['a string', '{"max_members": "5"}'],
  ])('refuses %s', (_case, text) => {
    expect(parsePlanOverride(text)).toMatchObject({ ok: false });
  });

  it('shows an override as the JSON it accepts', () => {
    const limits = { maxMembers: 10, maxApiKeys: null };
    expect(formatPlanOverride(limits)).toBe('{"max_members":10,"max_api_keys":null}');
    expect(parsePlanOverride(formatPlanOverride(limits))).toEqual({ ok: true, limits });
    expect(formatPlanOverride(null)).toBe('');
  });

  it('compares limits by meaning (absent = null = unlimited)', () => {
    expect(samePlanLimits({ maxMembers: 1 }, { maxMembers: 1, maxApiKeys: null })).toBe(true);
    expect(samePlanLimits({ maxMembers: 1 }, { maxMembers: 2 })).toBe(false);
    expect(samePlanLimits(null, {})).toBe(false);
    expect(samePlanLimits(null, null)).toBe(true);
  });
});
