import { describe, expect, it } from '@jest/globals';
import type { Actor } from './actor.js';
import { assertVerifiedEmail, hasVerifiedEmail } from './verified-email.js';

const user = (emailVerified: boolean): Actor => ({
  kind: 'user',
  id: 1,
  email: 'a@example.test',
  name: null,
  role: 'member',
  emailVerified,
  locale: 'en',
  sessionId: 's',
  ip: null,
});

describe('the verified-email rule (pre-account hijacking)', () => {
  it('refuses a user whose email is not verified with 403 email.unverified', () => {
    expect(hasVerifiedEmail(user(false))).toBe(false);
    expect(() => assertVerifiedEmail(user(false))).toThrow(
      expect.objectContaining({ code: 'email.unverified', status: 403 }),
    );
  });

  it('lets a verified user, back-office staff and team API keys through', () => {
    const others: Actor[] = [
      user(true),
      { kind: 'admin', id: 2, email: 'staff@example.test', role: 'admin', ip: null },
      { kind: 'apiKey', keyId: 3, teamId: 4, scopes: ['webhooks:write'], createdBy: 1, ip: null },
    ];
    for (const actor of others) {
      expect(hasVerifiedEmail(actor)).toBe(true);
      expect(() => assertVerifiedEmail(actor)).not.toThrow();
    }
  });
});
