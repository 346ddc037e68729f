import type { PlanLimits } from '../../database/schema.js';
import { isTerminalStatus } from './subscription-status.js';

// The limit decision, pure (no I/O): which limits apply to a team, and whether one more
// member, API key or webhook endpoint fits. Table-tested in plan-limits.spec.ts.

/** The limits in force, every key present: a number, or null for unlimited. */
export interface EffectiveLimits {
  maxMembers: number | null;
  maxApiKeys: number | null;
  maxWebhooks: number | null;
}

/** Where the limits in force come from. */
export type LimitsSource = 'override' | 'plan' | 'free';

/** The team columns the decision reads. */
export interface TeamPlanState {
  subscriptionStatus: string | null;
  planLimits: PlanLimits | null;
  planOverride: PlanLimits | null;
}

const complete = (limits: PlanLimits): EffectiveLimits => ({
  maxMembers: limits.maxMembers ?? null,
  maxApiKeys: limits.maxApiKeys ?? null,
  maxWebhooks: limits.maxWebhooks ?? null,
});

/** A subscription that has not ended (any status but the terminal ones) names the plan. */
export const hasLiveSubscription = (status: string | null): boolean =>
  status !== null && !isTerminalStatus(status);

/**
 * The limits in force: an admin's `planOverride` wins; else the live subscription's product
 * limits (`planLimits`, a key absent = unlimited); else the free plan (`FREE_PLAN_LIMITS`).
 * A subscription that has ended never lends its limits, whatever the row still holds.
 */
export function effectiveLimits(
  team: TeamPlanState,
  freePlan: PlanLimits,
): { limits: EffectiveLimits; source: LimitsSource } {
  if (team.planOverride !== null)
    return { limits: complete(team.planOverride), source: 'override' };
  if (hasLiveSubscription(team.subscriptionStatus) && team.planLimits !== null) {
    return { limits: complete(team.planLimits), source: 'plan' };
  }
  return { limits: complete(freePlan), source: 'free' };
}

/** What can be added to a team, and the limit (product-metadata key) that bounds it. */
export type Resource = 'members' | 'apiKeys' | 'webhooks';

export const LIMIT_OF: Record<Resource, { key: LimitName; field: keyof EffectiveLimits }> = {
  members: { key: 'max_members', field: 'maxMembers' },
  apiKeys: { key: 'max_api_keys', field: 'maxApiKeys' },
  webhooks: { key: 'max_webhooks', field: 'maxWebhooks' },
};

export type LimitName = 'max_members' | 'max_api_keys' | 'max_webhooks';

export type RoomVerdict =
  { allowed: true } | { allowed: false; limit: LimitName; max: number; used: number };

/**
 * Whether `adding` more of `resource` fit next to `used` under `limits`. Above the limit
 * already (a plan lowered after the fact) simply means no room: nothing is ever removed.
 */
export function decideRoom(
  limits: EffectiveLimits,
  resource: Resource,
  used: number,
  adding = 1,
): RoomVerdict {
  const { key, field } = LIMIT_OF[resource];
  const max = limits[field];
  if (max === null || used + adding <= max) return { allowed: true };
  return { allowed: false, limit: key, max, used };
}

/** Whether two stored limit sets say the same (an absent key and null both mean unlimited). */
export function samePlanLimits(a: PlanLimits | null, b: PlanLimits | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    (a.maxMembers ?? null) === (b.maxMembers ?? null) &&
    (a.maxApiKeys ?? null) === (b.maxApiKeys ?? null) &&
    (a.maxWebhooks ?? null) === (b.maxWebhooks ?? null)
  );
}

const OVERRIDE_FIELDS: Record<LimitName, keyof PlanLimits> = {
  max_members: 'maxMembers',
  max_api_keys: 'maxApiKeys',
  max_webhooks: 'maxWebhooks',
};

/**
 * An admin's override as typed in the back office: a JSON object with the product-metadata
 * keys (`{"max_members": 10, "max_api_keys": null}`), each a whole number or null (unlimited;
 * a key left out is unlimited too). Empty text clears the override (null).
 */
export function parsePlanOverride(
  text: string,
): { ok: true; limits: PlanLimits | null } | { ok: false; message: string } {
  if (text.trim() === '') return { ok: true, limits: null };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, message: 'must be a JSON object such as {"max_members": 10}' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: 'must be a JSON object such as {"max_members": 10}' };
  }
  const limits: PlanLimits = {};
  for (const [key, limit] of Object.entries(value)) {
    if (!Object.hasOwn(OVERRIDE_FIELDS, key)) {
      return {
        ok: false,
        message: `has an unknown key "${key}" (use ${Object.keys(OVERRIDE_FIELDS).join(', ')})`,
      };
    }
    if (
      limit !== null &&
      !(typeof limit === 'number' && Number.isSafeInteger(limit) && limit >= 0 && limit <= 1e9)
    ) {
      return { ok: false, message: `${key} must be a whole number or null (unlimited)` };
    }
    limits[OVERRIDE_FIELDS[key as LimitName]] = limit as number | null;
  }
  return { ok: true, limits };
}

/** An override as the back office shows it: the same JSON it accepts. */
export function formatPlanOverride(limits: PlanLimits | null): string {
  if (limits === null) return '';
  const shown: Partial<Record<LimitName, number | null>> = {};
  for (const [key, field] of Object.entries(OVERRIDE_FIELDS) as [LimitName, keyof PlanLimits][]) {
    if (limits[field] !== undefined) shown[key] = limits[field];
  }
  return JSON.stringify(shown);
}
