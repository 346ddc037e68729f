import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every team API key starts with this, so the auth guard (and secret scanners) can tell it apart. */
export const API_KEY_MARKER = 'nsk_';

/** `nsk_` + 12 hex characters (48 random bits): public, unique, shown in lists to recognise a key. */
const PUBLIC_ID_BYTES = 6;
/** 256 random bits: the secret part, never stored. */
const SECRET_BYTES = 32;

const KEY_PATTERN = /^nsk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface GeneratedApiKey {
  /** The whole key, shown to its creator once. */
  key: string;
  /** `nsk_` + the public id: stored, unique, listed. */
  prefix: string;
  /** SHA-256 of the whole key, hex: what is stored. */
  hash: string;
}

/**
 * SHA-256 of the whole key. A fast hash is right here: the key carries 256 random bits, so
 * there is no dictionary to try and a slow hash (argon2) would only slow every API call.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function generateApiKey(): GeneratedApiKey {
  const prefix = `${API_KEY_MARKER}${randomBytes(PUBLIC_ID_BYTES).toString('hex')}`;
  const key = `${prefix}_${randomBytes(SECRET_BYTES).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

/** Whether a bearer token is meant as an API key (then it is never tried as a JWT). */
export function isApiKeyToken(token: string): boolean {
  return token.startsWith(API_KEY_MARKER);
}

/** The stored prefix of a well-formed key, or undefined for anything else. */
export function parseApiKey(token: string): { prefix: string } | undefined {
  const match = KEY_PATTERN.exec(token);
  return match ? { prefix: `${API_KEY_MARKER}${match[1]!}` } : undefined;
}

/** Compares the presented key's hash with the stored one in constant time. */
export function apiKeyMatches(key: string, storedHash: string): boolean {
  const presented = Buffer.from(hashApiKey(key), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
