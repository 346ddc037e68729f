import { describe, expect, it } from '@jest/globals';
import { accessTokenClaims, JWT_CLOCK_SKEW_SECONDS } from './jwt.strategy.js';

describe('access token claims', () => {
  const sid = '3f2c1a8e-9b7d-4c6e-8a1f-2d3e4f5a6b7c';
  const now = 1_900_000_000;
  const times = { iat: now - 60, exp: now + 840 };

  it('takes sub as a positive int4 user id and sid as a lower-cased uuid', () => {
    expect(accessTokenClaims({ sub: '42', sid: sid.toUpperCase(), ...times }, now)).toEqual({
      userId: 42,
      sessionId: sid,
    });
  });

  it(`allows an iat up to ${JWT_CLOCK_SKEW_SECONDS} s ahead of our clock`, () => {
    const iat = now + JWT_CLOCK_SKEW_SECONDS;
    expect(accessTokenClaims({ sub: '1', sid, iat, exp: iat + 900 }, now)).toEqual({
      userId: 1,
      sessionId: sid,
    });
  });

  it.each([
    { sub: 42, sid, ...times },
    { sub: '0', sid, ...times },
    { sub: '042', sid, ...times },
    { sub: '2147483648', sid, ...times },
    { sub: '1', sid: 'not-a-uuid', ...times },
    { sub: '1', ...times },
    { sub: '1', sid, iat: times.iat },
    { sub: '1', sid, exp: times.exp },
    { sub: '1', sid, iat: String(times.iat), exp: times.exp },
    { sub: '1', sid, iat: times.iat, exp: null },
    { sub: '1', sid, iat: now + JWT_CLOCK_SKEW_SECONDS + 1, exp: now + 2000 },
    { sub: '1', sid, iat: now, exp: now },
    null,
    'a string payload',
  ])('refuses the claims %j', (payload) => {
    expect(accessTokenClaims(payload, now)).toBeUndefined();
  });
});
