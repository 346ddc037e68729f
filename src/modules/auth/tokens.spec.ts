import { describe, expect, it } from '@jest/globals';
import { formatRefreshToken, parseRefreshToken, randomSecret, sameHash, sha256 } from './tokens.js';

describe('refresh tokens', () => {
  const sessionId = '2f1c7a52-8d3e-4b7a-9c1e-5a4b3c2d1e0f';

  it('round-trips <sessionId>.<secret>', () => {
    const secret = randomSecret();
    expect(secret).toMatch(/^[\w-]{43}$/);
    expect(parseRefreshToken(formatRefreshToken(sessionId, secret))).toEqual({ sessionId, secret });
  });

  it('lower-cases the session id', () => {
    const secret = randomSecret();
    expect(parseRefreshToken(`${sessionId.toUpperCase()}.${secret}`)?.sessionId).toBe(sessionId);
  });

  it.each([
    ['empty', ''],
    ['no secret', sessionId],
    ['a short secret', `${sessionId}.abc`],
    ['a non-uuid id', `not-a-uuid.${'a'.repeat(43)}`],
    ['an extra part', `${sessionId}.${'a'.repeat(43)}.x`],
    ['a secret with invalid characters', `${sessionId}.${'a'.repeat(42)}=`],
  ])('rejects %s', (_name, raw) => {
    expect(parseRefreshToken(raw)).toBeUndefined();
  });

  it('compares hashes in constant time and only equal ones match', () => {
    expect(sameHash(sha256('a'), sha256('a'))).toBe(true);
    expect(sameHash(sha256('a'), sha256('b'))).toBe(false);
    expect(sameHash(sha256('a'), 'abcd')).toBe(false);
  });

  it('secrets do not repeat', () => {
    expect(new Set(Array.from({ length: 100 }, randomSecret)).size).toBe(100);
  });
});
