import { describe, expect, it } from '@jest/globals';
import { VerifiedTokens } from './verified-tokens.js';

describe('VerifiedTokens', () => {
  const now = 1_900_000_000;

  it('returns a remembered payload until its exp (refused from the second exp on)', () => {
    const cache = new VerifiedTokens(900);
    const payload = { sub: '1', iat: now, exp: now + 60 };
    cache.add('t', payload);
    expect(cache.get('t', now + 59)).toBe(payload);
    expect(cache.get('t', now + 60)).toBeUndefined();
    // Dropped once found expired.
    expect(cache.size).toBe(0);
  });

  it('ends at iat + the access lifetime when exp lies beyond it', () => {
    const cache = new VerifiedTokens(900);
    const payload = { iat: now, exp: now + 86_400 };
    cache.add('t', payload);
    expect(cache.get('t', now + 899)).toBe(payload);
    expect(cache.get('t', now + 900)).toBeUndefined();
  });

  it('does not keep a payload without numeric iat and exp', () => {
    const cache = new VerifiedTokens(900);
    cache.add('a', { exp: now + 60 });
    cache.add('b', { iat: now });
    cache.add('c', { iat: String(now), exp: now + 60 });
    expect(cache.size).toBe(0);
  });

  it('does not know a token it was not given', () => {
    const cache = new VerifiedTokens(900);
    cache.add('t', { iat: now, exp: now + 60 });
    expect(cache.get('t2', now)).toBeUndefined();
  });

  it('holds at most maxEntries, dropping the oldest first', () => {
    const cache = new VerifiedTokens(900, 2);
    const [a, b, c] = ['a', 'b', 'c'].map((sub) => ({ sub, iat: now, exp: now + 60 }));
    cache.add('a', a!);
    cache.add('b', b!);
    cache.add('a', a!);
    expect(cache.size).toBe(2);
    cache.add('c', c!);
    expect(cache.size).toBe(2);
    expect(cache.get('a', now)).toBeUndefined();
    expect(cache.get('b', now)).toBe(b);
    expect(cache.get('c', now)).toBe(c);
  });
});
