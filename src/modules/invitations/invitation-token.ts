import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** Invitations (and their tokens) expire this long after `invitedAt`. */
export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export function invitationExpiresAt(invitedAt: Date): Date {
  return new Date(invitedAt.getTime() + INVITATION_TTL_MS);
}

export function isInvitationExpired(invitedAt: Date, now: Date): boolean {
  return invitationExpiresAt(invitedAt).getTime() <= now.getTime();
}

export interface InvitationTokenPayload {
  /** Invitation id. */
  invitationId: number;
  /** The invited address, lower-case. */
  email: string;
  /** Expiry, seconds since the epoch (invitedAt + 7 days). */
  expiresAt: number;
}

export type InvitationTokenResult =
  | { ok: true; payload: InvitationTokenPayload }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

const VERSION = 'inv1';

/**
 * A key used only for invitation tokens, derived from the JWT secret (HKDF with a
 * purpose-specific label), so one configured secret serves both and an access token's
 * signature can never be replayed as an invitation token or the other way round.
 */
export function deriveInvitationKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'nest-saas', 'invitation-token/v1', 32));
}

function mac(key: Buffer, body: string): Buffer {
  return createHmac('sha256', key).update(`${VERSION}.${body}`).digest();
}

/**
 * `inv1.<payload>.<hmac>`: base64url JSON naming the invitation id, the email and the expiry,
 * authenticated with HMAC-SHA256. Tokens cannot be derived from ids without the key.
 */
export function signInvitationToken(key: Buffer, payload: InvitationTokenPayload): string {
  const body = Buffer.from(
    JSON.stringify({ iid: payload.invitationId, em: payload.email, exp: payload.expiresAt }),
  ).toString('base64url');
  return `${VERSION}.${body}.${mac(key, body).toString('base64url')}`;
}

export function verifyInvitationToken(
  key: Buffer,
  token: string,
  now: Date,
): InvitationTokenResult {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) return { ok: false, reason: 'malformed' };
  const [, body = '', signature = ''] = parts;
  if (!/^[\w-]+$/.test(body) || !/^[\w-]+$/.test(signature)) {
    return { ok: false, reason: 'malformed' };
  }
  const expected = mac(key, body);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad_signature' };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const { iid, em, exp } = (raw ?? {}) as { iid?: unknown; em?: unknown; exp?: unknown };
  if (
    !Number.isSafeInteger(iid) ||
    (iid as number) < 1 ||
    typeof em !== 'string' ||
    !Number.isSafeInteger(exp)
  ) {
    return { ok: false, reason: 'malformed' };
  }
  if ((exp as number) * 1000 <= now.getTime()) return { ok: false, reason: 'expired' };
  return {
    ok: true,
    payload: { invitationId: iid as number, email: em, expiresAt: exp as number },
  };
}
