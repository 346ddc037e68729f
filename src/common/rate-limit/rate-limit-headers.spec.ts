import { describe, expect, it } from '@jest/globals';
import { rateLimitHeaders, type RateLimitState } from './rate-limit-headers.js';

const state = (by: RateLimitState['by'], remaining: number): RateLimitState => ({
  name: `sign-up.${by}`,
  by,
  quota: by === 'ip' ? 30 : 10,
  windowSeconds: 900,
  remaining,
  resetSeconds: 480,
});

describe('rateLimitHeaders (draft-ietf-httpapi-ratelimit-headers-09)', () => {
  it('lists every quota, and what is left of the client’s own counters', () => {
    expect(rateLimitHeaders([state('ip', 12), state('email', 4), state('user', 3)])).toEqual({
      'RateLimit-Policy':
        '"sign-up.ip";q=30;w=900, "sign-up.email";q=10;w=900, "sign-up.user";q=10;w=900',
      RateLimit: '"sign-up.ip";r=12;t=480, "sign-up.user";r=3;t=480',
    });
  });

  it('shows an address counter only once it is used up', () => {
    expect(rateLimitHeaders([state('ip', 5), state('email', 0)]).RateLimit).toBe(
      '"sign-up.ip";r=5;t=480, "sign-up.email";r=0;t=480',
    );
    expect(rateLimitHeaders([state('email', 1)])).toEqual({
      'RateLimit-Policy': '"sign-up.email";q=10;w=900',
    });
    expect(rateLimitHeaders([])).toEqual({});
  });
});
