import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../config/app-config.js';
import { RateLimitedError } from './rate-limit.errors.js';
import { LoginRateLimiter, RateLimiterService } from './rate-limiter.service.js';

function limiter(perIp: number, perEmail: number): RateLimiterService {
  return new RateLimiterService(
    loadConfig({
      NODE_ENV: 'test',
      RATE_LIMIT_PER_IP: String(perIp),
      RATE_LIMIT_PER_EMAIL: String(perEmail),
      RATE_LIMIT_WINDOW: '60',
    }),
  );
}

describe('RateLimiterService (in-memory)', () => {
  it('allows perEmail attempts per email, then throws a 429 with the seconds to wait', async () => {
    const service = limiter(100, 2);
    await service.consume('sign-in', { ip: '1.1.1.1', email: 'a@x.test' });
    await service.consume('sign-in', { ip: '1.1.1.2', email: 'a@x.test' });
    const error = await service
      .consume('sign-in', { ip: '1.1.1.3', email: 'a@x.test' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).status).toBe(429);
    expect((error as RateLimitedError).retryAfterSeconds).toBeGreaterThan(0);
    expect((error as RateLimitedError).retryAfterSeconds).toBeLessThanOrEqual(60);
    // Another email is unaffected.
    await service.consume('sign-in', { ip: '1.1.1.4', email: 'b@x.test' });
  });

  it('counts per IP across emails and keeps policies apart', async () => {
    const service = limiter(2, 100);
    await service.consume('sign-up', { ip: '2.2.2.2', email: 'a@x.test' });
    await service.consume('sign-up', { ip: '2.2.2.2', email: 'b@x.test' });
    await expect(service.consume('sign-up', { ip: '2.2.2.2', email: 'c@x.test' })).rejects.toThrow(
      RateLimitedError,
    );
    await service.consume('password-reset', { ip: '2.2.2.2', email: 'a@x.test' });
  });

  it('counts per signed-in user under RATE_LIMIT_PER_EMAIL, whatever the IP', async () => {
    const service = limiter(100, 2);
    await service.consume('password-confirm', { ip: '4.4.4.1', userId: 7 });
    await service.consume('password-confirm', { ip: '4.4.4.2', userId: 7 });
    await expect(service.consume('password-confirm', { ip: '4.4.4.3', userId: 7 })).rejects.toThrow(
      RateLimitedError,
    );
    await service.consume('password-confirm', { ip: '4.4.4.3', userId: 8 });
    // The same user's sign-in counters are separate.
    await service.consume('sign-in', { ip: '4.4.4.4', userId: 7 });
  });

  it('assertAvailable checks without counting, and refuses once the allowance is used', async () => {
    const service = limiter(100, 2);
    const subject = { ip: null, userId: 9 };
    for (let i = 0; i < 5; i++) await service.assertAvailable('mfa-code', subject);
    await service.consume('mfa-code', subject);
    await service.assertAvailable('mfa-code', subject);
    await service.consume('mfa-code', subject);
    const error = await service.assertAvailable('mfa-code', subject).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterSeconds).toBeGreaterThan(0);
    expect((error as RateLimitedError).retryAfterSeconds).toBeLessThanOrEqual(60);
    // Another user, and the same user's other policies, are unaffected.
    await service.assertAvailable('mfa-code', { ip: null, userId: 10 });
    await service.assertAvailable('password-confirm', subject);
  });

  it('LoginRateLimiter is the sign-in policy', async () => {
    const service = limiter(100, 1);
    const login = new LoginRateLimiter(service);
    await login.consume({ ip: '3.3.3.3', email: 'admin@x.test' });
    await expect(
      service.consume('sign-in', { ip: '3.3.3.4', email: 'admin@x.test' }),
    ).rejects.toThrow(RateLimitedError);
  });
});

describe('RateLimiterService.consumeApiKey (in-memory)', () => {
  it('allows API_KEY_RATE_LIMIT requests per key per minute, then a 429, other keys unaffected', async () => {
    const service = new RateLimiterService(
      loadConfig({ NODE_ENV: 'test', API_KEY_RATE_LIMIT: '2' }),
    );
    await service.consumeApiKey(1);
    await service.consumeApiKey(1);
    const error = await service.consumeApiKey(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterSeconds).toBeGreaterThan(0);
    expect((error as RateLimitedError).retryAfterSeconds).toBeLessThanOrEqual(60);
    await service.consumeApiKey(2);
  });

  it('defaults to 600 per minute and rejects a bad API_KEY_RATE_LIMIT naming it', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).apiKeys).toEqual({ ratePerMinute: 600 });
    expect(() => loadConfig({ API_KEY_RATE_LIMIT: '0' })).toThrow('API_KEY_RATE_LIMIT');
    expect(() => loadConfig({ API_KEY_RATE_LIMIT: 'lots' })).toThrow('API_KEY_RATE_LIMIT');
  });
});

describe('RateLimiterService.consumeTeamEvent (in-memory)', () => {
  it('allows WEBHOOKS_EVENT_RATE_LIMIT events per team per minute, then a 429, other teams unaffected', async () => {
    const service = new RateLimiterService(
      loadConfig({ NODE_ENV: 'test', WEBHOOKS_EVENT_RATE_LIMIT: '2' }),
    );
    await service.consumeTeamEvent(1);
    await service.consumeTeamEvent(1);
    const error = await service.consumeTeamEvent(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterSeconds).toBeGreaterThan(0);
    expect((error as RateLimitedError).retryAfterSeconds).toBeLessThanOrEqual(60);
    await service.consumeTeamEvent(2);
  });
});

describe('rate-limit configuration', () => {
  it('defaults to 30 per IP and 10 per email in 15 minutes outside tests', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).rateLimit).toEqual({
      windowSeconds: 900,
      perIp: 30,
      perEmail: 10,
    });
  });

  it.each(['RATE_LIMIT_PER_IP', 'RATE_LIMIT_PER_EMAIL', 'RATE_LIMIT_WINDOW'])(
    'rejects a bad %s naming the variable',
    (name) => {
      expect(() => loadConfig({ [name]: '0' })).toThrow(name);
      expect(() => loadConfig({ [name]: 'many' })).toThrow(name);
    },
  );
});
