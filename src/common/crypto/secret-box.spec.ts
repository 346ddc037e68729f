import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { deriveMfaKey, loadConfig } from '../../config/app-config.js';
import { openSecret, sealSecret } from './secret-box.js';

describe('sealSecret / openSecret (AES-256-GCM)', () => {
  const key = randomBytes(32);

  it('round-trips and never stores the plaintext', () => {
    const sealed = sealSecret(key, 'JBSWY3DPEHPK3PXP', 'user:1');
    expect(sealed).toMatch(/^v1\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/);
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(openSecret(key, sealed, 'user:1')).toBe('JBSWY3DPEHPK3PXP');
  });

  it('uses a fresh IV each time: one secret seals to different values', () => {
    expect(sealSecret(key, 'same', 'user:1')).not.toBe(sealSecret(key, 'same', 'user:1'));
  });

  it('refuses another key, another context (row) and any altered byte', () => {
    const sealed = sealSecret(key, 'JBSWY3DPEHPK3PXP', 'user:1');
    expect(() => openSecret(randomBytes(32), sealed, 'user:1')).toThrow();
    expect(() => openSecret(key, sealed, 'user:2')).toThrow();
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString('base64url');
    expect(() => openSecret(key, parts.join('.'), 'user:1')).toThrow();
    expect(() => openSecret(key, 'v2.a.b.c', 'user:1')).toThrow('Not a sealed secret');
    expect(() => openSecret(key, 'garbage', 'user:1')).toThrow('Not a sealed secret');
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => sealSecret(randomBytes(16), 'x', 'user:1')).toThrow('32-byte key');
  });
});

describe('MFA encryption key (config)', () => {
  const jwtSecret = 'j'.repeat(40);

  it('derives a 32-byte key from JWT_SECRET when MFA_ENCRYPTION_KEY is unset', () => {
    const config = loadConfig({ JWT_SECRET: jwtSecret });
    expect(config.mfa.keyFromJwtSecret).toBe(true);
    expect(config.mfa.encryptionKey).toHaveLength(32);
    expect(config.mfa.encryptionKey.equals(deriveMfaKey(jwtSecret))).toBe(true);
    // Not the JWT key itself.
    expect(config.mfa.encryptionKey.toString('utf8')).not.toContain(jwtSecret.slice(0, 32));
  });

  it('uses MFA_ENCRYPTION_KEY when set, and refuses one shorter than 32 characters', () => {
    const config = loadConfig({ JWT_SECRET: jwtSecret, MFA_ENCRYPTION_KEY: 'm'.repeat(32) });
    expect(config.mfa.keyFromJwtSecret).toBe(false);
    expect(config.mfa.encryptionKey.equals(deriveMfaKey('m'.repeat(32)))).toBe(true);
    expect(config.mfa.encryptionKey.equals(deriveMfaKey(jwtSecret))).toBe(false);
    expect(() => loadConfig({ MFA_ENCRYPTION_KEY: 'short' })).toThrow(
      'MFA_ENCRYPTION_KEY must be at least 32 characters',
    );
  });
});
