import { describe, expect, it } from '@jest/globals';
import {
  deriveInvitationKey,
  invitationExpiresAt,
  isInvitationExpired,
  readInvitationToken,
  signInvitationToken,
  verifyInvitationToken,
} from './invitation-token.js';

const key = deriveInvitationKey('a-jwt-secret-that-is-at-least-32-characters');
const now = new Date('2030-01-01T00:00:00Z');
const email = 'new.person+team@example.com';
const payload = {
  invitationId: 42,
  email,
  expiresAt: Math.floor(now.getTime() / 1000) + 3600,
};
const claims = { invitationId: 42, expiresAt: payload.expiresAt };

describe('invitation tokens', () => {
  it('names the invitation id and expiry, never the email', () => {
    const token = signInvitationToken(key, payload);
    expect(token).toMatch(/^inv2\.42\.\d+\.[\w-]{43}$/);
    // Not in the clear, not in any base64 or URL encoding of any part either.
    for (const part of token.split('.')) {
      expect(part).not.toContain('example');
      expect(Buffer.from(part, 'base64url').toString('latin1')).not.toContain('example');
    }
    expect(readInvitationToken(token)).toEqual(claims);
  });

  it("verifies against the stored invitation's email", () => {
    const token = signInvitationToken(key, payload);
    expect(verifyInvitationToken(key, token, email, now)).toEqual({ ok: true, claims });
  });

  it('rejects the token when the invitation is for another email', () => {
    const token = signInvitationToken(key, payload);
    expect(verifyInvitationToken(key, token, 'attacker@example.com', now)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('rejects a token once its expiry has passed', () => {
    const token = signInvitationToken(key, payload);
    const later = new Date(payload.expiresAt * 1000);
    expect(verifyInvitationToken(key, token, email, later)).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('checks the signature before the expiry (a forged token learns nothing)', () => {
    const token = signInvitationToken(key, payload);
    const later = new Date(payload.expiresAt * 1000);
    expect(verifyInvitationToken(key, token, 'other@example.com', later)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('rejects a token signed with another key (e.g. another JWT secret)', () => {
    const other = deriveInvitationKey('another-jwt-secret-that-is-32-characters-long');
    const token = signInvitationToken(other, payload);
    expect(verifyInvitationToken(key, token, email, now)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('derives a key that differs from the secret itself', () => {
    const secret = 'a-jwt-secret-that-is-at-least-32-characters';
    expect(deriveInvitationKey(secret).equals(Buffer.from(secret).subarray(0, 32))).toBe(false);
    expect(deriveInvitationKey(secret)).toHaveLength(32);
  });

  it('rejects a token moved to another invitation id or a later expiry', () => {
    const token = signInvitationToken(key, payload);
    const [version, id, exp, signature] = token.split('.');
    for (const forged of [
      `${version}.43.${exp}.${signature}`,
      `${version}.${id}.${payload.expiresAt + 86_400}.${signature}`,
    ]) {
      expect(verifyInvitationToken(key, forged, email, now)).toEqual({
        ok: false,
        reason: 'bad_signature',
      });
    }
  });

  it('rejects an altered signature', () => {
    const token = signInvitationToken(key, payload);
    const signature = token.slice(token.lastIndexOf('.') + 1);
    const flipped = `${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    expect(
      verifyInvitationToken(key, `${token.slice(0, -signature.length)}${flipped}`, email, now),
    ).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it.each([
    '',
    'abc',
    'inv2.x',
    'inv1.eyJpaWQiOjF9.abc',
    'inv2.42.1893456000',
    'inv2.42.1893456000.short',
    'inv2.042.1893456000.' + 'A'.repeat(43),
    'inv2.0.1893456000.' + 'A'.repeat(43),
    'inv2.99999999999.1893456000.' + 'A'.repeat(43),
    'inv2.42.-1.' + 'A'.repeat(43),
    'inv2.42.1893456000.' + 'A'.repeat(43) + '.x',
    'inv2.42.1893456000.' + '!'.repeat(43),
  ])('rejects the malformed token %j', (token) => {
    expect(readInvitationToken(token)).toBeUndefined();
    expect(verifyInvitationToken(key, token, email, now)).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('expires 7 days after invitedAt', () => {
    const invitedAt = new Date('2030-01-01T12:00:00Z');
    expect(invitationExpiresAt(invitedAt).toISOString()).toBe('2030-01-08T12:00:00.000Z');
    expect(isInvitationExpired(invitedAt, new Date('2030-01-08T11:59:59.999Z'))).toBe(false);
    expect(isInvitationExpired(invitedAt, new Date('2030-01-08T12:00:00.000Z'))).toBe(true);
  });
});
