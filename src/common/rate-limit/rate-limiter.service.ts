import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { AppConfig } from '../../config/app-config.js';
import { normalizeEmail } from '../email.js';
import type { RateLimitState } from './rate-limit-headers.js';
import { RateLimitedError } from './rate-limit.errors.js';

/**
 * The actions throttled through `consume`/`@RateLimit`; each has its own counters (password
 * sign-in is not one of them: it counts failures, see `beginSignIn`). `password-confirm`
 * covers the signed-in routes that check the current password (PUT /users/me/password,
 * DELETE /users/me), so a stolen access token cannot be used to guess the password; both
 * routes share its counters.
 * `email-verification` covers the signed-in routes that send verification mail
 * (POST /auth/verify-email/resend, PATCH /users/me), so nobody can mail-bomb an address.
 * `checkout-success` is the public Stripe Checkout redirect, which calls Stripe on every hit:
 * counted per client IP only.
 * `mfa-code` counts wrong two-factor codes per user (sign-in second step, MFA settings, admin
 * login), through `assertAvailable` + `consume` on failure rather than the route decorator:
 * right codes cost nothing, and once the user is over the limit even a right code is refused.
 * `oidc-authorize` is the public start of an OpenID Connect sign-in,
 * which stores a row per hit: per client IP only.
 * The public token routes (TOKEN_POLICIES) are counted per client IP only, under
 * RATE_LIMIT_TOKEN_PER_IP: whoever holds a link or code may use it from anywhere, but one
 * client cannot try tokens (or load the database) without end.
 */
export const RATE_LIMIT_POLICIES = [
  'sign-up',
  'password-reset',
  'password-confirm',
  'email-verification',
  'checkout-success',
  'mfa-code',
  'oidc-authorize',
  'verify-email',
  'password-reset-confirm',
  'sign-in-mfa',
  'oidc-exchange',
] as const;
export type RateLimitPolicy = (typeof RATE_LIMIT_POLICIES)[number];

/**
 * POST /auth/verify-email, POST /auth/password-reset/confirm, POST /auth/sign-in/mfa and
 * POST /auth/oidc/exchange: public routes that redeem a token.
 */
const TOKEN_POLICIES: ReadonlySet<RateLimitPolicy> = new Set([
  'verify-email',
  'password-reset-confirm',
  'sign-in-mfa',
  'oidc-exchange',
]);

type CounterKey = 'ip' | 'email' | 'user';

/** The first delay of an address past its budget of failures; each further failure doubles it. */
export const SIGN_IN_SLOWDOWN_BASE_MS = 250;

/**
 * How long a password sign-in for an address waits, given the failures for that address in
 * the window (from any IP): nothing within `budget` (RATE_LIMIT_PER_EMAIL), then 250 ms,
 * doubling with each further failure, at most `maxMs` (RATE_LIMIT_SLOWDOWN_MAX_MS; 0: never).
 */
export function signInDelayMs(failures: number, budget: number, maxMs: number): number {
  if (maxMs <= 0 || failures < budget) return 0;
  return Math.min(maxMs, SIGN_IN_SLOWDOWN_BASE_MS * 2 ** Math.min(failures - budget, 20));
}

/** Whom a password sign-in attempt concerns: the client's IP and the address it names. */
export interface SignInSubject {
  ip: string | null;
  /** As typed; normalized here, so "A@x.com " and "a@x.com" share counters. */
  email: string | null;
}

export interface RateLimitSubject {
  ip: string | null;
  /** Normalized (trimmed, lower-case) email, when the request names one. */
  email?: string | null;
  /** The signed-in user, on authenticated routes. */
  userId?: number | null;
}

/** What one invitation mail counts against (API.md v1.2). */
export interface InvitationMailSubject {
  /** users.id of the inviter: the signed-in user, or a team API key's creator. */
  inviterId: number;
  teamId: number;
  /** The recipient, normalized (trimmed, lower-case). */
  email: string;
}

/**
 * Per-IP, per-email and per-user attempt counters for the credential endpoints, and password
 * sign-in's failure counters, shared by the API and the admin login. An email and a
 * signed-in user both name one account, so both are allowed RATE_LIMIT_PER_EMAIL attempts per
 * window. Storage is Redis when REDIS_URL is set (so several instances share the counts),
 * process memory otherwise. ioredis is imported by `onModuleInit`, and only with
 * REDIS_URL: an instance without Redis does not load it.
 *
 * Written on rate-limiter-flexible instead of @nestjs/throttler: the throttler (and its Redis
 * storage) is CommonJS that `require`s the ESM-only @nestjs/common 12, which Jest on Node 20
 * cannot load.
 */
@Injectable()
export class RateLimiterService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RateLimiterService.name);
  private redis: Redis | undefined;
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(private readonly config: AppConfig) {
    // In memory: ready now. With Redis: built by onModuleInit, before any request.
    if (config.redisUrl === undefined) this.build();
  }

  async onModuleInit(): Promise<void> {
    if (this.config.redisUrl === undefined) return;
    const { Redis } = await import('ioredis');
    // No offline queue: when Redis is down, calls fail fast and the in-memory insurance
    // limiter takes over instead of requests hanging.
    this.redis = new Redis(this.config.redisUrl, {
      enableOfflineQueue: false,
      lazyConnect: false,
    });
    this.redis.on('error', (error: Error) =>
      this.logger.warn(`Redis rate-limit storage: ${error.message}`),
    );
    this.build();
  }

  /**
   * Counts one request of a team API key (API_KEY_RATE_LIMIT per key per minute); throws
   * `RateLimitedError` (429) past it.
   */
  async consumeApiKey(keyId: number): Promise<void> {
    await settle([this.named('api-key').consume(String(keyId))]);
  }

  /**
   * Counts one request of a SCIM token (SCIM_RATE_LIMIT per token per minute); throws
   * `RateLimitedError` (429) past it.
   */
  async consumeScimToken(tokenId: number): Promise<void> {
    await settle([this.named('scim-token').consume(String(tokenId))]);
  }

  /**
   * Counts one invitation mail against its inviter, its team and its recipient
   * (INVITATION_RATE_LIMIT_*). Throws `RateLimitedError` (429) when any of them is used up;
   * a refused mail is not sent, so it takes nothing from the counters that had room (a
   * recipient someone else used up does not spend an honest inviter's allowance).
   */
  async consumeInvitationMail(subject: InvitationMailSubject): Promise<void> {
    const counters: [RateLimiterAbstract, string][] = [
      [this.named('invitation:inviter'), String(subject.inviterId)],
      [this.named('invitation:team'), String(subject.teamId)],
      [this.named('invitation:recipient'), subject.email],
    ];
    const results = await Promise.allSettled(
      counters.map(([limiter, key]) => limiter.consume(key)),
    );
    let retryAfterMs = 0;
    for (const result of results) {
      if (result.status === 'fulfilled') continue;
      if (!(result.reason instanceof RateLimiterRes)) throw result.reason;
      retryAfterMs = Math.max(retryAfterMs, result.reason.msBeforeNext);
    }
    if (retryAfterMs === 0) return;
    await Promise.all(
      counters
        .filter((_, i) => results[i]?.status === 'fulfilled')
        .map(([limiter, key]) => limiter.reward(key)),
    );
    throw new RateLimitedError(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  }

  /**
   * Before a password is checked (API sign-in, /admin login): counts the attempt against the
   * client IP (RATE_LIMIT_PER_IP) and the IP + address pair (RATE_LIMIT_PER_EMAIL), throwing
   * `RateLimitedError` (429) past either, then waits the address's slowdown (`signInDelayMs`
   * of its failures from any IP) and returns the milliseconds waited. The address alone is
   * never refused: wrong passwords from elsewhere cannot lock its owner out.
   * Call `endSignIn` with the outcome: only failures stay counted.
   */
  async beginSignIn(subject: SignInSubject): Promise<number> {
    const { ip, email } = this.signInKeys(subject);
    const checks: Promise<unknown>[] = [];
    if (ip !== null) checks.push(this.named('sign-in:ip').consume(ip));
    if (ip !== null && email !== null) {
      checks.push(this.named('sign-in:ip-email').consume(pairKey(ip, email)));
    }
    await settle(checks);
    if (email === null) return 0;
    // Counted before the check, so attempts in flight at once slow each other down; a right
    // password gives it back (`endSignIn`). The attempt's own count is not its own delay.
    const counted = await this.named('sign-in:email').penalty(email, 1);
    const failures = counted.consumedPoints - 1;
    const { perEmail, slowdownMaxMs } = this.config.rateLimit;
    const delay = signInDelayMs(failures, perEmail, slowdownMaxMs);
    if (delay > 0) await sleep(delay);
    return delay;
  }

  /**
   * After the password check begun by `beginSignIn`. Right: the attempt is given back to the
   * IP and the address, and the pair's failures are forgiven. Wrong: it stays counted, also
   * as one failure for the address (its slowdown).
   */
  async endSignIn(subject: SignInSubject, succeeded: boolean): Promise<void> {
    const { ip, email } = this.signInKeys(subject);
    if (!succeeded) return;
    if (ip !== null) await this.named('sign-in:ip').reward(ip, 1);
    if (email !== null) await this.named('sign-in:email').reward(email, 1);
    if (ip !== null && email !== null) {
      await this.named('sign-in:ip-email').delete(pairKey(ip, email));
    }
  }

  /**
   * Counts one outgoing-webhook event of a team (WEBHOOKS_EVENT_RATE_LIMIT per team per
   * minute); throws `RateLimitedError` (429) past it.
   */
  async consumeTeamEvent(teamId: number): Promise<void> {
    await settle([this.named('team-event').consume(String(teamId))]);
  }

  /**
   * Counts one attempt against the IP, the email and the user given, and returns what is left
   * of each counter (the RateLimit headers). Throws `RateLimitedError` (429) when either is
   * over its limit; the error carries the seconds until the next allowed attempt, and the
   * counters.
   */
  async consume(policy: RateLimitPolicy, subject: RateLimitSubject): Promise<RateLimitState[]> {
    const counters: [CounterKey, string][] = [];
    if (subject.ip) counters.push(['ip', subject.ip]);
    if (subject.email) counters.push(['email', subject.email]);
    if (subject.userId) counters.push(['user', String(subject.userId)]);
    const results = await Promise.allSettled(
      counters.map(([by, key]) => this.limiter(policy, by).consume(key)),
    );
    const states: RateLimitState[] = [];
    let retryAfterMs = 0;
    results.forEach((result, i) => {
      const by = counters[i]![0];
      if (result.status === 'rejected' && !(result.reason instanceof RateLimiterRes)) {
        throw result.reason;
      }
      const res = (result.status === 'fulfilled' ? result.value : result.reason) as RateLimiterRes;
      if (result.status === 'rejected') retryAfterMs = Math.max(retryAfterMs, res.msBeforeNext);
      const limiter = this.limiter(policy, by);
      states.push({
        name: `${policy}.${by}`,
        by,
        quota: limiter.points,
        windowSeconds: limiter.duration,
        remaining: Math.max(0, res.remainingPoints),
        resetSeconds: Math.max(0, Math.ceil(res.msBeforeNext / 1000)),
      });
    });
    if (retryAfterMs > 0) {
      throw new RateLimitedError(Math.max(1, Math.ceil(retryAfterMs / 1000)), states);
    }
    return states;
  }

  /**
   * Throws `RateLimitedError` when any counter of the subject has no attempt left, without
   * counting one. For limits on failures: check first, `consume` only when the attempt fails.
   */
  async assertAvailable(policy: RateLimitPolicy, subject: RateLimitSubject): Promise<void> {
    const counters: [CounterKey, string][] = [];
    if (subject.ip) counters.push(['ip', subject.ip]);
    if (subject.email) counters.push(['email', subject.email]);
    if (subject.userId) counters.push(['user', String(subject.userId)]);
    let retryAfterMs = 0;
    for (const [by, key] of counters) {
      const limiter = this.limiter(policy, by);
      const res = await limiter.get(key);
      if (res !== null && res.consumedPoints >= limiter.points) {
        retryAfterMs = Math.max(retryAfterMs, res.msBeforeNext);
      }
    }
    if (retryAfterMs > 0) throw new RateLimitedError(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  }

  async onModuleDestroy(): Promise<void> {
    if (this.redis === undefined) return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  private limiter(policy: RateLimitPolicy, by: CounterKey): RateLimiterAbstract {
    return this.named(`${policy}:${by}`);
  }

  private named(name: string): RateLimiterAbstract {
    const limiter = this.limiters.get(name);
    if (limiter === undefined) throw new Error(`No rate limiter for ${name}`);
    return limiter;
  }

  private signInKeys(subject: SignInSubject): { ip: string | null; email: string | null } {
    const email = subject.email === null ? '' : normalizeEmail(subject.email).slice(0, 320);
    return { ip: subject.ip || null, email: email || null };
  }

  /**
   * Every policy's counters (per IP, email, user), password sign-in's (failures per IP, per IP
   * + address, per address), the API keys' (per key, per minute) and the invitation mails'
   * (per inviter, team, recipient) and the teams' webhook events (per team, per minute).
   */
  private build(): void {
    const { rateLimit, apiKeys, invitationRateLimit: invitations, webhooks } = this.config;
    for (const policy of RATE_LIMIT_POLICIES) {
      this.create(
        `${policy}:ip`,
        TOKEN_POLICIES.has(policy) ? rateLimit.tokenPerIp : rateLimit.perIp,
      );
      this.create(`${policy}:email`, rateLimit.perEmail);
      this.create(`${policy}:user`, rateLimit.perEmail);
    }
    this.create('sign-in:ip', rateLimit.perIp);
    this.create('sign-in:ip-email', rateLimit.perEmail);
    // Only counted (penalty) and read (get), never consumed: it slows, it never refuses.
    this.create('sign-in:email', rateLimit.perEmail);
    this.create('api-key', apiKeys.ratePerMinute, 60);
    this.create('scim-token', this.config.scim.ratePerMinute, 60);
    this.create('invitation:inviter', invitations.perInviter, invitations.windowSeconds);
    this.create('invitation:team', invitations.perTeam, invitations.windowSeconds);
    this.create('invitation:recipient', invitations.perRecipient, invitations.windowSeconds);
    this.create('team-event', webhooks.eventsPerMinute, 60);
  }

  private create(name: string, points: number, duration = this.config.rateLimit.windowSeconds) {
    const options = { keyPrefix: `rl:${name}`, points, duration };
    this.limiters.set(
      name,
      this.redis === undefined
        ? new RateLimiterMemory(options)
        : new RateLimiterRedis({
            ...options,
            storeClient: this.redis,
            insuranceLimiter: new RateLimiterMemory(options),
          }),
    );
  }
}

/** One key per IP + address: an IP has no space in it, so the pair cannot be ambiguous. */
function pairKey(ip: string, email: string): string {
  return `${ip} ${email}`;
}

/**
 * Waits for every counter; throws `RateLimitedError` with the longest wait when any is over
 * its limit (after all of them counted the attempt), and any storage error as it is.
 */
async function settle(checks: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(checks);
  let retryAfterMs = 0;
  for (const result of results) {
    if (result.status === 'fulfilled') continue;
    if (result.reason instanceof RateLimiterRes) {
      retryAfterMs = Math.max(retryAfterMs, result.reason.msBeforeNext);
    } else {
      throw result.reason;
    }
  }
  if (retryAfterMs > 0) throw new RateLimitedError(Math.max(1, Math.ceil(retryAfterMs / 1000)));
}

/**
 * The password sign-in throttle as one call, for every login form (API sign-in, /admin):
 * `const user = await login.check({ ip, email }, findUserIfPasswordIsRight)` runs the check
 * between `beginSignIn` and `endSignIn` (undefined: a wrong password) and returns its
 * result, or throws the 429 `RateLimitedError` before checking.
 */
@Injectable()
export class LoginRateLimiter {
  constructor(private readonly limiter: RateLimiterService) {}

  async check<T>(
    subject: SignInSubject,
    verify: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    await this.limiter.beginSignIn(subject);
    const result = await verify();
    await this.limiter.endSignIn(subject, result !== undefined);
    return result;
  }
}
