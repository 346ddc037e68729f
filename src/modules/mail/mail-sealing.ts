import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

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
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return { sealed: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64') };
}

/** Throws when the payload was not sealed with `key` (e.g. JWT_SECRET changed meanwhile). */
export function unseal(key: Buffer, payload: SealedPayload): unknown {
  const raw = Buffer.from(payload.sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString(
    'utf8',
  );
  return JSON.parse(text) as unknown;
}
