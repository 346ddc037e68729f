import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for small secrets at rest (TOTP secrets, webhook signing secrets, queued mail
 * payloads). The output is
 * `v1.<iv>.<tag>.<ciphertext>` in base64url: a fresh random 96-bit IV per value, the 128-bit
 * tag authenticates the ciphertext and `context` (associated data, e.g. `user:12`), so a value
 * copied to another row, or altered, fails to decrypt instead of yielding another secret.
 */
export function sealSecret(key: Buffer, plaintext: string, context: string): string {
  if (key.length !== 32) throw new Error('sealSecret needs a 32-byte key');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv, cipher.getAuthTag(), ciphertext]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

/** Reverses sealSecret; throws when the key, the context or any byte does not match. */
export function openSecret(key: Buffer, sealed: string, context: string): string {
  if (key.length !== 32) throw new Error('openSecret needs a 32-byte key');
  const [version, iv, tag, ciphertext, ...rest] = sealed.split('.');
  if (version !== VERSION || iv === undefined || tag === undefined || ciphertext === undefined) {
    throw new Error('Not a sealed secret');
  }
  if (rest.length > 0) throw new Error('Not a sealed secret');
  const ivBytes = Buffer.from(iv, 'base64url');
  const tagBytes = Buffer.from(tag, 'base64url');
  if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) {
    throw new Error('Not a sealed secret');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, ivBytes, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(tagBytes);
  return Buffer.concat([
    decipher.update(Buffer.from(ciphertext, 'base64url')),
    decipher.final(),
  ]).toString('utf8');
}
