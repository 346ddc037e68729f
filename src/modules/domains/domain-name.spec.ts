import { describe, expect, it } from '@jest/globals';
import { challengeName, checkDomain, domainOfEmail, normalizeDomain } from './domain-name.js';

describe('normalizeDomain', () => {
  it.each([
    ['example.com', 'example.com'],
    ['Example.COM', 'example.com'],
    ['  example.com  ', 'example.com'],
    ['example.com.', 'example.com'],
    ['sub.example.co.uk', 'sub.example.co.uk'],
    ['bücher.de', 'xn--bcher-kva.de'],
    ['BÜCHER.de', 'xn--bcher-kva.de'],
    ['xn--bcher-kva.de', 'xn--bcher-kva.de'],
    ['XN--BCHER-KVA.DE', 'xn--bcher-kva.de'],
    // NFKC: full-width letters and the full-width full stop.
    ['ＥＸＡＭＰＬＥ．ｃｏｍ', 'example.com'],
    ['例え。テスト', 'xn--r8jz45g.xn--zckzah'],
    ['ß.de', 'xn--zca.de'],
    ['a-b.example', 'a-b.example'],
    ['123.example', '123.example'],
    [`${'a'.repeat(63)}.com`, `${'a'.repeat(63)}.com`],
  ])('%j → %j', (input, expected) => {
    expect(normalizeDomain(input)).toBe(expected);
  });

  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['.', 'empty'],
    ['localhost', 'single_label'],
    ['com', 'single_label'],
    ['1.2.3.4', 'ip_address'],
    ['192.168.0.1.', 'ip_address'],
    ['127.1', 'ip_address'],
    ['0x7f.1', 'ip_address'],
    ['foo.0x1f', 'ip_address'],
    ['example.123', 'ip_address'],
    ['[::1]', 'invalid_characters'],
    ['::1', 'invalid_characters'],
    ['https://example.com', 'invalid_characters'],
    ['example.com/path', 'invalid_characters'],
    ['a/b.com', 'invalid_characters'],
    ['example.com:443', 'invalid_characters'],
    ['user@example.com', 'invalid_characters'],
    ['exa mple.com', 'invalid_characters'],
    ['a_b.example.com', 'invalid_characters'],
    ['%41.com', 'invalid_characters'],
    ['*.example.com', 'invalid_characters'],
    ['example.com..', 'invalid_label'],
    ['a..b.com', 'invalid_label'],
    ['.example.com', 'invalid_label'],
    ['-a.com', 'invalid_label'],
    ['a-.com', 'invalid_label'],
    ['ab--c.com', 'invalid_label'],
    ['xn--zz.com', 'invalid_label'],
    [`${'a'.repeat(64)}.com`, 'too_long'],
    [`${'a.'.repeat(126)}com`, 'too_long'],
  ])('%j is refused (%s)', (input, problem) => {
    expect(checkDomain(input)).toEqual({ ok: false, problem });
    expect(normalizeDomain(input)).toBeUndefined();
  });

  it('refuses input over 1024 characters before any Unicode work', () => {
    expect(checkDomain(`${'a'.repeat(2000)}.com`)).toEqual({ ok: false, problem: 'too_long' });
  });

  it('keeps the longest name that fits (253 characters)', () => {
    const name = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    expect(name).toHaveLength(253);
    expect(normalizeDomain(name)).toBe(name);
    expect(normalizeDomain(`${name}.`)).toBe(name);
    expect(checkDomain(`e${name}`)).toEqual({ ok: false, problem: 'too_long' });
  });
});

describe('domainOfEmail', () => {
  it.each([
    ['jane@example.com', 'example.com'],
    ['Jane.Doe@Example.COM', 'example.com'],
    ['jane@bücher.de', 'xn--bcher-kva.de'],
    ['"odd@local"@example.com', 'example.com'],
    ['jane@sub.example.com.', 'sub.example.com'],
  ])('%j → %j', (email, expected) => {
    expect(domainOfEmail(email)).toBe(expected);
  });

  it.each([
    'example.com',
    '@example.com',
    'jane@',
    'jane@localhost',
    'jane@[127.0.0.1]',
    'jane@1.2.3.4',
  ])('%j has no domain', (email) => {
    expect(domainOfEmail(email)).toBeUndefined();
  });
});

describe('challengeName', () => {
  it('prefixes the domain with the challenge label', () => {
    expect(challengeName('example.com')).toBe('_nest-saas-challenge.example.com');
  });
});
