import { describe, expect, it } from '@jest/globals';
import {
  deriveInvitationKey,
  invitationExpiresAt,
  isInvitationExpired,
  signInvitationToken,
  verifyInvitationToken,
} from './invitation-token.js';

const key = deriveInvitationKey('a-jwt-secret-that-is-at-least-32-characters');
const now = new Date('2030-01-01T00:00:00Z');
const payload = {
  invitationId: 42,
  email: 'new@example.com',
  expiresAt: Math.floor(now.getTime() / 1000) + 3600,
};

function tamper(token: string, part: 1 | 2, replace: (s: string) => string): string {
  const parts = token.split('.');
  parts[part] = replace(parts[part] ?? '');
  return parts.join('.');
}

describe('invitation tokens', () => {
  it('round-trips the invitation id, email and expiry', () => {
    const token = signInvitationToken(key, payload);
    expect(token).toMatch(/^inv1\.[\w-]+\.[\w-]+$/);
    expect(verifyInvitationToken(key, token, now)).toEqual({ ok: true, payload });
  });

  it('rejects a token once its expiry has passed', () => {
    const token = signInvitationToken(key, payload);
    const later = new Date(payload.expiresAt * 1000);
    expect(verifyInvitationToken(key, token, later)).toEqual({ ok: false, reason: 'expired' });
  });

  it('rejects a token signed with another key (e.g. another JWT secret)', () => {
    const other = deriveInvitationKey('another-jwt-secret-that-is-32-characters-long');
    const token = signInvitationToken(other, payload);
    expect(verifyInvitationToken(key, token, now)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('derives a key that differs from the secret itself', () => {
    const secret = 'a-jwt-secret-that-is-at-least-32-characters';
    expect(deriveInvitationKey(secret).equals(Buffer.from(secret).subarray(0, 32))).toBe(false);
    expect(deriveInvitationKey(secret)).toHaveLength(32);
  });

  it('rejects a payload changed to another invitation id or email', () => {
    const token = signInvitationToken(key, payload);
    for (const changed of [
      { ...payload, invitationId: 43 },
      { ...payload, email: 'attacker@example.com' },
      { ...payload, expiresAt: payload.expiresAt + 86_400 },
    ]) {
      const forged = tamper(token, 1, () => signInvitationToken(key, changed).split('.')[1] ?? '');
      expect(verifyInvitationToken(key, forged, now)).toEqual({
        ok: false,
        reason: 'bad_signature',
      });
    }
  });

  it('rejects a truncated or altered signature', () => {
    const token = signInvitationToken(key, payload);
    expect(
      verifyInvitationToken(
        key,
        tamper(token, 2, (s) => s.slice(0, -2)),
        now,
      ),
    ).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    const flipped = tamper(token, 2, (s) =>
      s.startsWith('A') ? `B${s.slice(1)}` : `A${s.slice(1)}`,
    );
    expect(verifyInvitationToken(key, flipped, now)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it.each(['', 'abc', 'inv1.x', 'inv2.a.b', 'inv1.a.b.c', 'inv1.!!.abc', 'inv1..'])(
    'rejects the malformed token %j',
    (token) => {
      expect(verifyInvitationToken(key, token, now)).toEqual({ ok: false, reason: 'malformed' });
    },
  );

  it('expires 7 days after invitedAt', () => {
    const invitedAt = new Date('2030-01-01T12:00:00Z');
    expect(invitationExpiresAt(invitedAt).toISOString()).toBe('2030-01-08T12:00:00.000Z');
    expect(isInvitationExpired(invitedAt, new Date('2030-01-08T11:59:59.999Z'))).toBe(false);
    expect(isInvitationExpired(invitedAt, new Date('2030-01-08T12:00:00.000Z'))).toBe(true);
  });
});
