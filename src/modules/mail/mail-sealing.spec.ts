import { describe, expect, it } from '@jest/globals';
import { mailKey, seal, unseal } from './mail-sealing.js';

describe('queued mail sealing', () => {
  const key = mailKey('a'.repeat(32));
  const message = {
    to: 'a@example.test',
    subject: 'Reset',
    text: 'https://app/reset?token=s3cret',
  };

  it('round-trips, and the stored form does not contain the link', () => {
    const sealed = seal(key, message);
    expect(JSON.stringify(sealed)).not.toContain('s3cret');
    expect(unseal(key, sealed)).toEqual(message);
  });

  it('refuses a payload sealed with another key or altered', () => {
    const sealed = seal(key, message);
    expect(() => unseal(mailKey('b'.repeat(32)), sealed)).toThrow();
    const bytes = Buffer.from(sealed.sealed, 'base64');
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1);
    expect(() => unseal(key, { sealed: bytes.toString('base64') })).toThrow();
  });
});
