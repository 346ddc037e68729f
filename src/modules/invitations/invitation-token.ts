import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { parseId } from '../../common/ids.js';
import { INVITATION_TTL_MS, invitationExpiryCutoff } from '../plans/invitation-expiry.js';

// Defined with the plan usage that counts pending invitations (plans/invitation-expiry.ts).
export { INVITATION_TTL_MS, invitationExpiryCutoff };

export function invitationExpiresAt(invitedAt: Date): Date {
  return new Date(invitedAt.getTime() + INVITATION_TTL_MS);
}

export function isInvitationExpired(invitedAt: Date, now: Date): boolean {
  return invitationExpiresAt(invitedAt).getTime() <= now.getTime();
}

export interface InvitationTokenPayload {
  /** Invitation id. */
  invitationId: number;
  /** The invited address, lower-case. Signed, never written into the token. */
  email: string;
  /** Expiry, seconds since the epoch (invitedAt + 7 days). */
  expiresAt: number;
}

/** What a token says in the clear: the invitation it names and its expiry. */
export interface InvitationTokenClaims {
  invitationId: number;
  expiresAt: number;
}

export type InvitationTokenResult =
  | { ok: true; claims: InvitationTokenClaims }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

const VERSION = 'inv2';
const TOKEN = /^inv2\.([1-9]\d{0,9})\.([1-9]\d{0,11})\.([\w-]{43})$/;

/**
 * A key used only for invitation tokens, derived from the JWT secret (HKDF with a
 * purpose-specific label), so one configured secret serves both and an access token's
 * signature can never be replayed as an invitation token or the other way round.
 */
export function deriveInvitationKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'nest-saas', 'invitation-token/v1', 32));
}

/** HMAC-SHA256 over the version, id, expiry and email; `|` cannot occur in the digits. */
function mac(key: Buffer, payload: InvitationTokenPayload): Buffer {
  return createHmac('sha256', key)
    .update(`${VERSION}|${payload.invitationId}|${payload.expiresAt}|${payload.email}`)
    .digest();
}

/**
 * `inv2.<invitationId>.<expiresAt>.<hmac>`. The link names the invitation and its expiry but
 * not the invited address: the HMAC covers the email, which the verifier takes from the stored
 * invitation. Tokens cannot be made for an id, another email or a later expiry without the key.
 */
export function signInvitationToken(key: Buffer, payload: InvitationTokenPayload): string {
  return `${VERSION}.${payload.invitationId}.${payload.expiresAt}.${mac(key, payload).toString('base64url')}`;
}

/** The id and expiry a token names, unverified (to find the invitation), or undefined. */
export function readInvitationToken(token: string): InvitationTokenClaims | undefined {
  const match = TOKEN.exec(token);
  if (!match) return undefined;
  const invitationId = parseId(match[1]);
  if (invitationId === undefined) return undefined;
  return { invitationId, expiresAt: Number(match[2]) };
}

/**
 * Checks `token` against the invitation's stored, lower-case `email`: signature first (so a
 * forged token learns nothing, not even that it expired), then expiry.
 */
export function verifyInvitationToken(
  key: Buffer,
  token: string,
  email: string,
  now: Date,
): InvitationTokenResult {
  const claims = readInvitationToken(token);
  if (claims === undefined) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url');
  const expected = mac(key, { ...claims, email });
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad_signature' };
  }
  if (claims.expiresAt * 1000 <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}
