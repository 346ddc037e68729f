import { describe, expect, it } from '@jest/globals';
import { hasFormatOrControlCharacter, normalizeEmail, parseEmail } from './email.js';

/** ASCII text in fullwidth forms (U+FF01..U+FF5E), as an IME types it. */
function fullwidth(text: string): string {
  return text.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
}

describe('normalizeEmail', () => {
  it('maps compatibility forms to their plain letters (NFKC) before lower-casing', () => {
    expect(fullwidth('test@test.com')).toBe('ｔｅｓｔ＠ｔｅｓｔ．ｃｏｍ');
    expect(normalizeEmail(fullwidth('test@test.com'))).toBe('test@test.com');
    expect(normalizeEmail(fullwidth('Ann.Lee@Example.COM'))).toBe('ann.lee@example.com');
    // A ligature and a circled letter fold too; an ordinary accented letter stays itself.
    expect(normalizeEmail('ﬁ@ⓐ.com')).toBe('fi@a.com');
    expect(normalizeEmail('Zoë@exämple.com')).toBe('zoë@exämple.com');
    // Decomposed and composed forms of one letter become one address.
    expect(normalizeEmail('zoe\u0308@x.com')).toBe(normalizeEmail('zo\u00eb@x.com'));
  });

  it('still trims surrounding white space and lower-cases, as before', () => {
    expect(normalizeEmail('  Ann@Example.com\t\n')).toBe('ann@example.com');
    // The ideographic space is white space after NFKC.
    expect(normalizeEmail('\u3000ann@example.com\u3000')).toBe('ann@example.com');
  });

  it('keeps format characters, so that they are refused rather than silently dropped', () => {
    expect(normalizeEmail('\ufefftest@test.com')).toBe('\ufefftest@test.com');
    expect(normalizeEmail('test@test.com\u200b')).toBe('test@test.com\u200b');
  });
});

describe('hasFormatOrControlCharacter', () => {
  it.each([
    ['a zero-width space', 'test@test.com\u200b'],
    ['a zero-width joiner', 'te\u200dst@test.com'],
    ['a soft hyphen', 'te\u00adst@test.com'],
    ['a byte order mark', '\ufefftest@test.com'],
    ['a right-to-left override', 'test@\u202emoc.test'],
    ['a tag character', 'test@test.com\u{e0041}'],
    ['NUL', 'test\u0000@test.com'],
    ['an escape', 'test\u001b@test.com'],
    ['a C1 control', 'test\u0085@test.com'],
  ])('finds %s', (_name, address) => {
    expect(hasFormatOrControlCharacter(address)).toBe(true);
  });

  it('finds none in ordinary addresses, international ones included', () => {
    for (const address of ['test@test.com', 'zoë@exämple.com', '用户@例子.广告', 'a+b@x.io']) {
      expect(hasFormatOrControlCharacter(address)).toBe(false);
    }
  });
});

describe('parseEmail', () => {
  it('answers the normalised address of a valid one', () => {
    expect(parseEmail(' Ann@Example.com ')).toBe('ann@example.com');
    expect(parseEmail(fullwidth('test@test.com'))).toBe('test@test.com');
  });

  it('refuses format and control characters, invalid addresses and overlong ones', () => {
    expect(parseEmail('test@test.com\u200b')).toBeUndefined();
    expect(parseEmail('\ufefftest@test.com')).toBeUndefined();
    expect(parseEmail('te\u0000st@test.com')).toBeUndefined();
    expect(parseEmail('not an address')).toBeUndefined();
    expect(parseEmail('')).toBeUndefined();
    expect(
      parseEmail(`${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com`),
    ).toBeUndefined();
  });
});
