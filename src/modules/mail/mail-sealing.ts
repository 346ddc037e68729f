import { hkdfSync } from 'node:crypto';
import { openSecret, sealSecret } from '../../common/crypto/secret-box.js';

const SEAL_CONTEXT = 'queued-mail';

/**
 * Queued mails carry live links (password reset, verification, invitation) whose tokens the
 * database otherwise only keeps hashed. Their payload is encrypted (AES-256-GCM, key derived
 * from JWT_SECRET) so that the job table, its archive and backups hold no usable link.
 */
export interface SealedPayload {
  sealed: string;
}

export function mailKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, '', 'nest-saas queued mail v1', 32));
}

export function seal(key: Buffer, value: unknown): SealedPayload {
  return { sealed: sealSecret(key, JSON.stringify(value), SEAL_CONTEXT) };
}

/** Throws when the payload was not sealed with `key` (e.g. JWT_SECRET changed meanwhile). */
export function unseal(key: Buffer, payload: SealedPayload): unknown {
  return JSON.parse(openSecret(key, payload.sealed, SEAL_CONTEXT)) as unknown;
}
