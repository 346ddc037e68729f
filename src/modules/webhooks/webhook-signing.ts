import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { openSecret, sealSecret as sealWithBox } from '../../common/crypto/secret-box.js';

const SEAL_CONTEXT = 'webhook-secret';

/**
 * Secrets and signatures of outgoing webhooks (Standard Webhooks, https://www.standardwebhooks.com).
 *
 * A secret is `whsec_` + base64 of 32 random bytes; the HMAC key is those bytes. Signing needs
 * the secret in clear, so it cannot be stored hashed: it is sealed at rest (AES-256-GCM, key
 * derived from JWT_SECRET with HKDF), so a database dump or backup alone does not let anyone
 * forge our webhooks. Changing JWT_SECRET makes stored secrets unreadable: such deliveries
 * fail with a clear error until the owner rotates the secret.
 */
export const SECRET_PREFIX = 'whsec_';

export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

export function webhookSealKey(jwtSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', jwtSecret, '', 'nest-saas webhook secrets v1', 32));
}

/** The secret sealed for its row's column (common/crypto/secret-box, AES-256-GCM). */
export function sealSecret(key: Buffer, secret: string): string {
  return sealWithBox(key, secret, SEAL_CONTEXT);
}

/** Throws when `sealed` was not sealed with `key` (JWT_SECRET changed since). */
export function unsealSecret(key: Buffer, sealed: string): string {
  return openSecret(key, sealed, SEAL_CONTEXT);
}

/** `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` keyed with the secret's bytes. */
export function signature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/**
 * The three Standard Webhooks headers. With several secrets (during a rotation's overlap) the
 * signature header lists one signature per secret, space-separated; a receiver accepts the
 * message when any of them verifies with the secret it holds.
 */
export function webhookHeaders(
  secrets: readonly string[],
  id: string,
  timestamp: number,
  body: string,
): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => signature(s, id, timestamp, body)).join(' '),
  };
}
