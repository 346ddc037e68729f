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

describe('RateLimiterService.consumeInvitationMail (in-memory)', () => {
  function invitationLimiter(perInviter: number, perTeam: number, perRecipient: number) {
    return new RateLimiterService(
      loadConfig({
        NODE_ENV: 'test',
        INVITATION_RATE_LIMIT_PER_INVITER: String(perInviter),
        INVITATION_RATE_LIMIT_PER_TEAM: String(perTeam),
        INVITATION_RATE_LIMIT_PER_RECIPIENT: String(perRecipient),
        INVITATION_RATE_LIMIT_WINDOW: '120',
      }),
    );
  }

  async function refusal(call: Promise<void>): Promise<RateLimitedError> {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RateLimitedError);
    return error as RateLimitedError;
  }

  it('counts per inviter across teams and recipients, then a 429 within the window', async () => {
    const service = invitationLimiter(2, 100, 100);
    await service.consumeInvitationMail({ inviterId: 1, teamId: 10, email: 'a@x.test' });
    await service.consumeInvitationMail({ inviterId: 1, teamId: 11, email: 'b@x.test' });
    const error = await refusal(
      service.consumeInvitationMail({ inviterId: 1, teamId: 12, email: 'c@x.test' }),
    );
    expect(error.status).toBe(429);
    expect(error.retryAfterSeconds).toBeGreaterThan(0);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(120);
    await service.consumeInvitationMail({ inviterId: 2, teamId: 12, email: 'c@x.test' });
  });

  it('counts per team across inviters, and per recipient across teams', async () => {
    const service = invitationLimiter(100, 2, 2);
    await service.consumeInvitationMail({ inviterId: 1, teamId: 10, email: 'a@x.test' });
    await service.consumeInvitationMail({ inviterId: 2, teamId: 10, email: 'b@x.test' });
    await refusal(service.consumeInvitationMail({ inviterId: 3, teamId: 10, email: 'c@x.test' }));
    await service.consumeInvitationMail({ inviterId: 3, teamId: 11, email: 'a@x.test' });
    await refusal(service.consumeInvitationMail({ inviterId: 4, teamId: 12, email: 'a@x.test' }));
  });

  it('a refused mail takes nothing from the counters that had room', async () => {
    const service = invitationLimiter(2, 100, 1);
    await service.consumeInvitationMail({ inviterId: 1, teamId: 10, email: 'a@x.test' });
    // The recipient is used up; these refusals must not spend inviter 1's second mail.
    for (let i = 0; i < 3; i++) {
      await refusal(service.consumeInvitationMail({ inviterId: 1, teamId: 10, email: 'a@x.test' }));
    }
    await service.consumeInvitationMail({ inviterId: 1, teamId: 10, email: 'b@x.test' });
    await refusal(service.consumeInvitationMail({ inviterId: 1, teamId: 10, email: 'c@x.test' }));
  });

  it('defaults to 20 per inviter, 50 per team, 3 per recipient an hour; bad values name the variable', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).invitationRateLimit).toEqual({
      windowSeconds: 3600,
      perInviter: 20,
      perTeam: 50,
      perRecipient: 3,
    });
    for (const name of [
      'INVITATION_RATE_LIMIT_PER_INVITER',
      'INVITATION_RATE_LIMIT_PER_TEAM',
      'INVITATION_RATE_LIMIT_PER_RECIPIENT',
      'INVITATION_RATE_LIMIT_WINDOW',
    ]) {
      expect(() => loadConfig({ [name]: '0' })).toThrow(name);
      expect(() => loadConfig({ [name]: 'lots' })).toThrow(name);
    }
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
