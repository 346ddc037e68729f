import { describe, expect, it } from '@jest/globals';
import {
  generateScimToken,
  hashScimToken,
  parseScimToken,
  scimTokenMatches,
} from './scim-token.js';

describe('SCIM token format', () => {
  it('generates scim_<12 hex>_<43 base64url> tokens whose prefix and hash match', () => {
    const { token, prefix, hash } = generateScimToken();
    expect(token).toMatch(/^scim_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(token.startsWith(`${prefix}_`)).toBe(true);
    expect(hash).toBe(hashScimToken(token));
    expect(parseScimToken(token)).toEqual({ prefix });
  });

  it('parses only well-formed tokens and matches only the exact token', () => {
    const { token, hash } = generateScimToken();
    for (const bad of ['scim_', token.slice(0, -1), `${token}A`, token.replace('scim_', 'nsk_')]) {
      expect({ bad, parsed: parseScimToken(bad) }).toEqual({ bad, parsed: undefined });
    }
    expect(scimTokenMatches(token, hash)).toBe(true);
    const other = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expect(scimTokenMatches(other, hash)).toBe(false);
  });
});
