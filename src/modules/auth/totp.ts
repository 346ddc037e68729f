import { randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { sha256 } from './tokens.js';

/** RFC 6238 as API.md fixes it: SHA-1, 6 digits, 30-second steps, ±1 step of clock drift. */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
export const TOTP_WINDOW = 1;
/** Issuer shown in authenticator apps (the otpauth:// URL's `issuer`). */
export const TOTP_ISSUER = 'nest-saas';
export const RECOVERY_CODE_COUNT = 10;

function totp(secretBase32: string, label = 'user'): TOTP {
  return new TOTP({
    issuer: TOTP_ISSUER,
    label,
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** A new random 160-bit secret (RFC 4226's recommended length), base32 as apps expect it. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The otpauth:// URL an authenticator app imports (usually as a QR code). */
export function totpUrl(secretBase32: string, accountEmail: string): string {
  return totp(secretBase32, accountEmail).toString();
}

/** A 6-digit code once spaces are removed (apps show "123 456"), else undefined. */
export function normalizeTotpCode(input: string): string | undefined {
  const code = input.replace(/\s+/g, '');
  return /^\d{6}$/.test(code) ? code : undefined;
}

/**
 * The time step (`floor(unix seconds / 30)`) whose code `code` is, within ±1 step of `nowMs`,
 * or undefined when it matches none. Callers refuse a step not after the last accepted one.
 */
export function totpStep(secretBase32: string, code: string, nowMs: number): number | undefined {
  const normalized = normalizeTotpCode(code);
  if (normalized === undefined) return undefined;
  const generator = totp(secretBase32);
  const delta = generator.validate({ token: normalized, timestamp: nowMs, window: TOTP_WINDOW });
  if (delta === null) return undefined;
  return generator.counter({ timestamp: nowMs }) + delta;
}

// RFC 4648 base32 alphabet, lower-case: no 0/1/8/9, so no o/l/b/g look-alikes between them.
const RECOVERY_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const RECOVERY_LENGTH = 12;

/** Ten fresh recovery codes, `xxxx-xxxx-xxxx` (60 random bits each). */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    let raw = '';
    for (let i = 0; i < RECOVERY_LENGTH; i++) raw += RECOVERY_ALPHABET[randomInt(32)];
    return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8)}`;
  });
}

/**
 * The stored form of a recovery code: SHA-256 of the code without separators or case (so
 * "ABCD EFGH-ijkl" matches), or undefined when the input cannot be one. 60 random bits and a
 * per-user wrong-code limit make a fast hash sufficient.
 */
export function recoveryCodeHash(input: string): string | undefined {
  const normalized = input.toLowerCase().replace(/[\s-]+/g, '');
  if (normalized.length !== RECOVERY_LENGTH) return undefined;
  for (const char of normalized) if (!RECOVERY_ALPHABET.includes(char)) return undefined;
  return sha256(normalized);
}
