import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every SCIM token starts with this: the SCIM guard (and secret scanners) tell it apart. */
export const SCIM_TOKEN_MARKER = 'scim_';

const TOKEN_PATTERN = /^scim_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface GeneratedScimToken {
  /** The whole token, shown to its creator once. */
  token: string;
  /** `scim_` + 12 public hex characters: stored, unique, finds the row. */
  prefix: string;
  /** SHA-256 of the whole token, hex: what is stored. */
  hash: string;
}

/**
 * SHA-256 of the whole token: as for API keys, 256 random bits leave nothing to guess, so a
 * slow hash would only slow every provisioning call.
 */
export function hashScimToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function generateScimToken(): GeneratedScimToken {
  const prefix = `${SCIM_TOKEN_MARKER}${randomBytes(6).toString('hex')}`;
  const token = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { token, prefix, hash: hashScimToken(token) };
}

/** The stored prefix of a well-formed token, or undefined for anything else. */
export function parseScimToken(token: string): { prefix: string } | undefined {
  const match = TOKEN_PATTERN.exec(token);
  return match ? { prefix: `${SCIM_TOKEN_MARKER}${match[1]!}` } : undefined;
}

/** Compares the presented token's hash with the stored one in constant time. */
export function scimTokenMatches(token: string, storedHash: string): boolean {
  const presented = Buffer.from(hashScimToken(token), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
