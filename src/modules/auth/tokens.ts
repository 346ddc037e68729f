import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** 256 random bits, base64url (43 characters). */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Tokens are stored as their SHA-256: they are random, so no salt or slow hash is needed. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * A refresh token is `<sessionId>.<secret>`: the id finds the session even when the secret
 * is an old one, which is how reuse of a rotated token is detected.
 */
export function formatRefreshToken(sessionId: string, secret: string): string {
  return `${sessionId}.${secret}`;
}

export function parseRefreshToken(raw: string): { sessionId: string; secret: string } | undefined {
  const [sessionId, secret, ...rest] = raw.split('.');
  if (rest.length > 0 || !isUuid(sessionId) || secret === undefined || !SECRET.test(secret)) {
    return undefined;
  }
  return { sessionId: sessionId.toLowerCase(), secret };
}
