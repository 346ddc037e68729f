import type { PlanLimits } from '../database/schema.js';
import { ConfigValidationError } from './config-error.js';

/**
 * The limit keys a Stripe product's metadata (and FREE_PLAN_LIMITS) may carry, with the
 * PlanLimits field each one fills. Billing's mapper reads product metadata with the same keys.
 */
export const PLAN_LIMIT_KEYS = {
  max_members: 'maxMembers',
  max_api_keys: 'maxApiKeys',
  max_webhooks: 'maxWebhooks',
} as const satisfies Record<string, keyof PlanLimits>;

export type PlanLimitKey = keyof typeof PLAN_LIMIT_KEYS;

const isLimitKey = (key: string): key is PlanLimitKey => Object.hasOwn(PLAN_LIMIT_KEYS, key);

/** A whole number 0..1 000 000 000 written as digits only (no sign, no decimals, no exponent). */
export function parseLimitValue(value: string): number | undefined {
  const trimmed = value.trim();
  if (!/^\d{1,10}$/.test(trimmed)) return undefined;
  const parsed = Number(trimmed);
  return parsed <= 1_000_000_000 ? parsed : undefined;
}

/**
 * FREE_PLAN_LIMITS: `max_members=3,max_api_keys=0` → `{ maxMembers: 3, maxApiKeys: 0 }`.
 * Unset or empty: `{}` (every limit unlimited). An unknown key, a repeated key or a value that
 * is not a whole number stops the boot with a line naming the variable.
 */
export function parseFreePlanLimits(
  value: string | undefined,
  variable = 'FREE_PLAN_LIMITS',
): PlanLimits {
  const limits: PlanLimits = {};
  if (value === undefined || value.trim() === '') return Object.freeze(limits);
  for (const entry of value.split(',')) {
    const pair = entry.trim();
    if (pair === '') continue;
    const separator = pair.indexOf('=');
    const key = (separator < 0 ? pair : pair.slice(0, separator)).trim();
    if (!isLimitKey(key)) {
      throw new ConfigValidationError(
        variable,
        `has an unknown key "${key}" (use ${Object.keys(PLAN_LIMIT_KEYS).join(', ')})`,
      );
    }
    const field = PLAN_LIMIT_KEYS[key];
    if (limits[field] !== undefined) {
      throw new ConfigValidationError(variable, `names "${key}" twice`);
    }
    const parsed = separator < 0 ? undefined : parseLimitValue(pair.slice(separator + 1));
    if (parsed === undefined) {
      throw new ConfigValidationError(
        variable,
        `must give ${key} a whole number (key=value pairs separated by commas, e.g. max_members=3,max_api_keys=0)`,
      );
    }
    limits[field] = parsed;
  }
  return Object.freeze(limits);
}
