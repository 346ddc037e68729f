import { describe, expect, it } from '@jest/globals';
import { TOTP } from 'otpauth';
import {
  newRecoveryCodes,
  newTotpSecret,
  normalizeTotpCode,
  recoveryCodeHash,
  totpStep,
  totpUrl,
} from './totp.js';

describe('TOTP helpers (otpauth, RFC 6238)', () => {
  it('matches the RFC 6238 SHA-1 test vector (secret "12345678901234567890", T=59 s)', () => {
    // RFC 6238 appendix B, 8 digits 94287082; 6 digits are its last six.
    const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    expect(totpStep(secret, '287082', 59_000)).toBe(1);
    expect(totpStep(secret, '287 082', 59_000)).toBe(1);
  });

  it('accepts codes of the previous and next step, not two steps away, and reports the step', () => {
    const secret = newTotpSecret();
    const now = Date.UTC(2026, 0, 1, 12, 0, 15);
    const step = Math.floor(now / 30_000);
    const at = (offsetSteps: number) =>
      new TOTP({ secret: secret }).generate({ timestamp: now + offsetSteps * 30_000 });
    expect(totpStep(secret, at(0), now)).toBe(step);
    expect(totpStep(secret, at(-1), now)).toBe(step - 1);
    expect(totpStep(secret, at(1), now)).toBe(step + 1);
    const twoBack = at(-2);
    if (![at(-1), at(0), at(1)].includes(twoBack))
      expect(totpStep(secret, twoBack, now)).toBeUndefined();
  });

  it('refuses malformed codes before any HMAC', () => {
    const secret = newTotpSecret();
    for (const bad of ['', '12345', '1234567', 'abcdef', '12-3456']) {
      expect(normalizeTotpCode(bad)).toBeUndefined();
      expect(totpStep(secret, bad, Date.now())).toBeUndefined();
    }
  });

  it('builds an otpauth:// URL with the issuer, the account and the secret', () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const url = new URL(totpUrl(secret, 'ada@example.com'));
    expect(url.protocol).toBe('otpauth:');
    expect(url.host).toBe('totp');
    expect(decodeURIComponent(url.pathname)).toBe('/nest-saas:ada@example.com');
    expect(url.searchParams.get('secret')).toBe(secret);
    expect(url.searchParams.get('issuer')).toBe('nest-saas');
    expect(url.searchParams.get('digits')).toBe('6');
    expect(url.searchParams.get('period')).toBe('30');
  });

  it('makes ten distinct recovery codes whose hash ignores case, spaces and dashes', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
    const first = codes[0]!;
    expect(recoveryCodeHash(first)).toMatch(/^[0-9a-f]{64}$/);
    expect(recoveryCodeHash(first.toUpperCase().replace(/-/g, ' '))).toBe(recoveryCodeHash(first));
    expect(recoveryCodeHash('123456')).toBeUndefined();
    expect(recoveryCodeHash('abcd-efgh-ijk1')).toBeUndefined();
  });
});
