import { describe, expect, it } from '@jest/globals';
import {
  apiKeyMatches,
  generateApiKey,
  hashApiKey,
  isApiKeyToken,
  parseApiKey,
} from './api-key-token.js';

describe('team API key format', () => {
  it('generates nsk_<12 hex>_<43 base64url> keys whose prefix and hash match the key', () => {
    const { key, prefix, hash } = generateApiKey();
    expect(key).toMatch(/^nsk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(key.startsWith(`${prefix}_`)).toBe(true);
    expect(hash).toBe(hashApiKey(key));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(parseApiKey(key)).toEqual({ prefix });
  });

  it('generates a different key and prefix every time', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.key).not.toBe(b.key);
    expect(a.prefix).not.toBe(b.prefix);
  });

  it('recognises nsk_ bearers, but parses only well-formed keys', () => {
    const { key } = generateApiKey();
    expect(isApiKeyToken(key)).toBe(true);
    expect(isApiKeyToken('eyJhbGciOiJIUzI1NiJ9.x.y')).toBe(false);
    for (const bad of [
      'nsk_',
      'nsk_abc',
      key.slice(0, -1),
      `${key}A`,
      key.toUpperCase(),
      key.replace('nsk_', 'nsx_'),
      `${key.slice(0, 16)}!${key.slice(17)}`,
      ` ${key}`,
    ]) {
      expect({ bad, parsed: parseApiKey(bad) }).toEqual({ bad, parsed: undefined });
    }
  });

  it('matches only the exact key against a stored hash', () => {
    const { key, hash } = generateApiKey();
    expect(apiKeyMatches(key, hash)).toBe(true);
    const other = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    expect(apiKeyMatches(other, hash)).toBe(false);
    expect(apiKeyMatches(key, 'abcd')).toBe(false);
  });
});
