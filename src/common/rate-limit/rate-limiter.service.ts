import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { AppConfig } from '../../config/app-config.js';
import { RateLimitedError } from './rate-limit.errors.js';

/**
 * The throttled actions; each has its own counters. `password-confirm` covers the signed-in
 * routes that check the current password (PUT /users/me/password, DELETE /users/me), so a
 * stolen access token cannot be used to guess the password; both routes share its counters.
 * `email-verification` covers the signed-in routes that send verification mail
 * (POST /auth/verify-email/resend, PATCH /users/me), so nobody can mail-bomb an address.
 * `checkout-success` is the public Stripe Checkout redirect, which calls Stripe on every hit:
 * counted per client IP only.
 * `mfa-code` counts wrong two-factor codes per user (sign-in second step, MFA settings, admin
 * login), through `assertAvailable` + `consume` on failure rather than the route decorator:
 * right codes cost nothing, and once the user is over the limit even a right code is refused.
 * `oidc-authorize` is the public start of an OpenID Connect sign-in,
 * which stores a row per hit: per client IP only.
 */
export const RATE_LIMIT_POLICIES = [
  'sign-in',
  'sign-up',
  'password-reset',
  'password-confirm',
  'email-verification',
  'checkout-success',
  'mfa-code',
  'oidc-authorize',
] as const;
export type RateLimitPolicy = (typeof RATE_LIMIT_POLICIES)[number];

type CounterKey = 'ip' | 'email' | 'user';

export interface RateLimitSubject {
  ip: string | null;
  /** Normalized (trimmed, lower-case) email, when the request names one. */
  email?: string | null;
  /** The signed-in user, on authenticated routes. */
  userId?: number | null;
}

/**
 * Per-IP, per-email and per-user attempt counters for the credential endpoints, shared by the
 * API and the admin login. An email and a signed-in user both name one account, so both are
 * allowed RATE_LIMIT_PER_EMAIL attempts per window. Storage is Redis when REDIS_URL is set (so several instances share the
 * counts), process memory otherwise. ioredis is imported by `onModuleInit`, and only with
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
    try {
      await this.named('api-key').consume(String(keyId));
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      throw new RateLimitedError(Math.max(1, Math.ceil(error.msBeforeNext / 1000)));
    }
  }

  /**
   * Counts one outgoing-webhook event of a team (WEBHOOKS_EVENT_RATE_LIMIT per team per
   * minute); throws `RateLimitedError` (429) past it.
   */
  async consumeTeamEvent(teamId: number): Promise<void> {
    try {
      await this.named('team-event').consume(String(teamId));
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      throw new RateLimitedError(Math.max(1, Math.ceil(error.msBeforeNext / 1000)));
    }
  }

  /**
   * Counts one attempt against the IP, the email and the user given. Throws `RateLimitedError` (429) when
   * either is over its limit; the error carries the seconds until the next allowed attempt.
   */
  async consume(policy: RateLimitPolicy, subject: RateLimitSubject): Promise<void> {
    const checks: Promise<unknown>[] = [];
    if (subject.ip) checks.push(this.limiter(policy, 'ip').consume(subject.ip));
    if (subject.email) checks.push(this.limiter(policy, 'email').consume(subject.email));
    if (subject.userId) checks.push(this.limiter(policy, 'user').consume(String(subject.userId)));
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

  /**
   * Every policy's counters (per IP, email, user), the API keys' (per key, per minute) and the
   * teams' webhook events (per team, per minute).
   */
  private build(): void {
    const { rateLimit, apiKeys, webhooks } = this.config;
    for (const policy of RATE_LIMIT_POLICIES) {
      this.create(`${policy}:ip`, rateLimit.perIp);
      this.create(`${policy}:email`, rateLimit.perEmail);
      this.create(`${policy}:user`, rateLimit.perEmail);
    }
    this.create('api-key', apiKeys.ratePerMinute, 60);
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

/**
 * The sign-in throttle as one call, for any login form (API sign-in, admin panel):
 * `await loginRateLimiter.consume({ ip, email })` throws the 429 `RateLimitedError`.
 */
@Injectable()
export class LoginRateLimiter {
  constructor(private readonly limiter: RateLimiterService) {}

  consume(subject: RateLimitSubject): Promise<void> {
    return this.limiter.consume('sign-in', subject);
  }
}
