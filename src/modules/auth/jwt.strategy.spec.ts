import { describe, expect, it } from '@jest/globals';
import { accessTokenClaims } from './jwt.strategy.js';

describe('access token claims', () => {
  const sid = '3f2c1a8e-9b7d-4c6e-8a1f-2d3e4f5a6b7c';

  it('takes sub as a positive int4 user id and sid as a lower-cased uuid', () => {
    expect(accessTokenClaims({ sub: '42', sid: sid.toUpperCase() })).toEqual({
      userId: 42,
      sessionId: sid,
    });
  });

  it.each([
    { sub: 42, sid },
    { sub: '0', sid },
    { sub: '042', sid },
    { sub: '2147483648', sid },
    { sub: '1', sid: 'not-a-uuid' },
    { sub: '1' },
    null,
    'a string payload',
  ])('refuses the claims %j', (payload) => {
    expect(accessTokenClaims(payload)).toBeUndefined();
  });
});
