import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../config/app-config.js';
import { RateLimitedError } from './rate-limit.errors.js';
import { LoginRateLimiter, RateLimiterService, signInDelayMs } from './rate-limiter.service.js';

function limiter(perIp: number, perEmail: number, env: Record<string, string> = {}) {
  return new RateLimiterService(
    loadConfig({
      NODE_ENV: 'test',
      RATE_LIMIT_PER_IP: String(perIp),
      RATE_LIMIT_PER_EMAIL: String(perEmail),
      RATE_LIMIT_WINDOW: '60',
      RATE_LIMIT_SLOWDOWN_MAX_MS: '0',
      ...env,
    }),
  );
}

describe('RateLimiterService (in-memory)', () => {
  it('allows perEmail attempts per email, then throws a 429 with the seconds to wait', async () => {
    const service = limiter(100, 2);
    await service.consume('password-reset', { ip: '1.1.1.1', email: 'a@x.test' });
    await service.consume('password-reset', { ip: '1.1.1.2', email: 'a@x.test' });
    const error = await service
      .consume('password-reset', { ip: '1.1.1.3', email: 'a@x.test' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).status).toBe(429);
    expect((error as RateLimitedError).retryAfterSeconds).toBeGreaterThan(0);
    expect((error as RateLimitedError).retryAfterSeconds).toBeLessThanOrEqual(60);
    // Another email is unaffected.
    await service.consume('password-reset', { ip: '1.1.1.4', email: 'b@x.test' });
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
    // The same user's other counters are separate.
    await service.consume('email-verification', { ip: '4.4.4.4', userId: 7 });
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

  it('the public token routes allow RATE_LIMIT_TOKEN_PER_IP per IP, each route its own count', async () => {
    const service = limiter(1, 1, { RATE_LIMIT_TOKEN_PER_IP: '2' });
    for (const policy of [
      'verify-email',
      'password-reset-confirm',
      'sign-in-mfa',
      'oidc-exchange',
    ] as const) {
      await service.consume(policy, { ip: '5.5.5.5' });
      await service.consume(policy, { ip: '5.5.5.5' });
      await expect(service.consume(policy, { ip: '5.5.5.5' })).rejects.toThrow(RateLimitedError);
      await service.consume(policy, { ip: '5.5.5.6' });
    }
  });
});

describe('LoginRateLimiter (password sign-in: API and /admin)', () => {
  const right = () => Promise.resolve(true);
  const wrong = () => Promise.resolve(undefined);

  it('refuses one IP + address after RATE_LIMIT_PER_EMAIL failures, even the right password; another IP signs in', async () => {
    const login = new LoginRateLimiter(limiter(100, 2));
    const victim = { ip: '6.6.6.1', email: 'victim@x.test' };
    expect(await login.check(victim, wrong)).toBeUndefined();
    expect(await login.check(victim, wrong)).toBeUndefined();
    const error = await login.check(victim, right).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterSeconds).toBeGreaterThan(0);
    expect(await login.check({ ip: '6.6.6.2', email: 'victim@x.test' }, right)).toBe(true);
    // The same IP may still sign in to another address.
    expect(await login.check({ ip: '6.6.6.1', email: 'other@x.test' }, right)).toBe(true);
  });

  it('refuses an IP after RATE_LIMIT_PER_IP failures across addresses; right passwords are not counted', async () => {
    const login = new LoginRateLimiter(limiter(3, 100));
    const from = (email: string) => ({ ip: '7.7.7.7', email });
    for (let i = 0; i < 5; i++) expect(await login.check(from('me@x.test'), right)).toBe(true);
    for (const email of ['a@x.test', 'b@x.test', 'c@x.test']) {
      expect(await login.check(from(email), wrong)).toBeUndefined();
    }
    await expect(login.check(from('me@x.test'), right)).rejects.toThrow(RateLimitedError);
    expect(await login.check({ ip: '7.7.7.8', email: 'me@x.test' }, right)).toBe(true);
  });

  it('a right password forgives the failures of its IP + address', async () => {
    const login = new LoginRateLimiter(limiter(100, 2));
    const me = { ip: '8.8.8.8', email: 'me@x.test' };
    expect(await login.check(me, wrong)).toBeUndefined();
    expect(await login.check(me, right)).toBe(true);
    expect(await login.check(me, wrong)).toBeUndefined();
    expect(await login.check(me, right)).toBe(true);
  });

  it('failures from anywhere slow the address down, but never refuse the right password', async () => {
    const service = limiter(100, 2, { RATE_LIMIT_SLOWDOWN_MAX_MS: '40' });
    const login = new LoginRateLimiter(service);
    const victim = (n: number) => ({ ip: `9.9.9.${n}`, email: 'victim@x.test' });
    // Within the address's budget (RATE_LIMIT_PER_EMAIL failures): no delay.
    expect(await service.beginSignIn(victim(1))).toBe(0);
    await service.endSignIn(victim(1), false);
    expect(await service.beginSignIn(victim(2))).toBe(0);
    await service.endSignIn(victim(2), false);
    // Past it, every attempt for the address waits (capped by RATE_LIMIT_SLOWDOWN_MAX_MS)...
    for (let n = 3; n < 12; n++) {
      expect(await service.beginSignIn(victim(n))).toBe(40);
      await service.endSignIn(victim(n), false);
    }
    // ...other addresses do not, and the right password from a new IP still signs in.
    expect(await service.beginSignIn({ ip: '9.9.9.1', email: 'other@x.test' })).toBe(0);
    expect(await login.check(victim(99), right)).toBe(true);
  });

  it('concurrent attempts on one address slow each other down (counted before the check)', async () => {
    const service = limiter(100, 2, { RATE_LIMIT_SLOWDOWN_MAX_MS: '40' });
    const victim = (n: number) => ({ ip: `10.9.9.${n}`, email: 'parallel@x.test' });
    // Six guesses from six IPs at once: all but the first two wait, not all see zero failures.
    const delays = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => service.beginSignIn(victim(n))));
    expect([...delays].sort()).toEqual([0, 0, 40, 40, 40, 40]);
    // A right password gives its attempt back: it does not slow the owner's next sign-in.
    for (const n of [1, 2, 3, 4, 5, 6]) await service.endSignIn(victim(n), true);
    expect(await service.beginSignIn(victim(7))).toBe(0);
  });

  it('signInDelayMs: none within the budget, then doubling from 250 ms, capped', () => {
    expect([0, 9].map((n) => signInDelayMs(n, 10, 5000))).toEqual([0, 0]);
    expect([10, 11, 12, 13, 14, 15, 40].map((n) => signInDelayMs(n, 10, 5000))).toEqual([
      250, 500, 1000, 2000, 4000, 5000, 5000,
    ]);
    expect(signInDelayMs(50, 10, 0)).toBe(0);
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
    expect(loadConfig({ NODE_ENV: 'test' }).apiKeys).toEqual({ ratePerMinute: 600 });
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
    expect(loadConfig({ NODE_ENV: 'test' }).invitationRateLimit).toEqual({
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
  it('defaults to 30 per IP, 10 per email, 60 per IP on token routes in 15 minutes, and a 5 s slowdown cap', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).rateLimit).toEqual({
      windowSeconds: 900,
      perIp: 30,
      perEmail: 10,
      tokenPerIp: 60,
      slowdownMaxMs: 5000,
    });
  });

  it('rejects a bad RATE_LIMIT_SLOWDOWN_MAX_MS naming it; 0 turns the slowdown off', () => {
    expect(loadConfig({ RATE_LIMIT_SLOWDOWN_MAX_MS: '0' }).rateLimit.slowdownMaxMs).toBe(0);
    expect(() => loadConfig({ RATE_LIMIT_SLOWDOWN_MAX_MS: '60001' })).toThrow(
      'RATE_LIMIT_SLOWDOWN_MAX_MS',
    );
    expect(() => loadConfig({ RATE_LIMIT_SLOWDOWN_MAX_MS: 'slow' })).toThrow(
      'RATE_LIMIT_SLOWDOWN_MAX_MS',
    );
  });

  it.each([
    'RATE_LIMIT_PER_IP',
    'RATE_LIMIT_PER_EMAIL',
    'RATE_LIMIT_WINDOW',
    'RATE_LIMIT_TOKEN_PER_IP',
  ])('rejects a bad %s naming the variable', (name) => {
    expect(() => loadConfig({ [name]: '0' })).toThrow(name);
    expect(() => loadConfig({ [name]: 'many' })).toThrow(name);
  });
});
