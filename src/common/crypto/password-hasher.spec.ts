import { describe, expect, it } from '@jest/globals';
import argon2 from 'argon2';
import { PasswordHasher } from './password-hasher.js';

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher();

  it('hashes with argon2id at the OWASP minimum parameters and verifies', async () => {
    const hash = await hasher.hash('correct horse');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    await expect(hasher.verify(hash, 'correct horse')).resolves.toBe(true);
    await expect(hasher.verify(hash, 'wrong horse')).resolves.toBe(false);
    expect(hasher.needsRehash(hash)).toBe(false);
  });

  it('answers false (never throws) for a stored value that is not an argon2 hash', async () => {
    await expect(hasher.verify('not-a-hash', 'whatever')).resolves.toBe(false);
    expect(hasher.needsRehash('not-a-hash')).toBe(true);
  });

  it('flags weaker hashes for rehashing', async () => {
    const weak = await argon2.hash('x', { type: argon2.argon2id, memoryCost: 4096, timeCost: 1 });
    expect(hasher.needsRehash(weak)).toBe(true);
  });

  it('verifyDummy is always false', async () => {
    await expect(hasher.verifyDummy('admin123')).resolves.toBe(false);
  });

  it('runs at most two hashes at a time, whatever the number of callers', async () => {
    let running = 0;
    let peak = 0;
    const original = argon2.verify;
    const spy = async (...args: Parameters<typeof argon2.verify>): Promise<boolean> => {
      running++;
      peak = Math.max(peak, running);
      try {
        return await original(...args);
      } finally {
        running--;
      }
    };
    const hash = await hasher.hash('pw-12345');
    (argon2 as { verify: typeof argon2.verify }).verify = spy;
    try {
      const results = await Promise.all(
        Array.from({ length: 8 }, () => hasher.verify(hash, 'pw-12345')),
      );
      expect(results).toEqual(Array(8).fill(true));
      expect(peak).toBe(2);
    } finally {
      (argon2 as { verify: typeof argon2.verify }).verify = original;
    }
  });
});
