import { describe, expect, it } from '@jest/globals';
import { escapeHtml, unlinkable } from './mail-text.js';

describe('unlinkable (user-chosen names inside a mail)', () => {
  it.each([
    ['evil.example.com/login', 'evil[.]example[.]com/login'],
    ['https://x.y', 'https[:]//x[.]y'],
    ['HTTP://X.Y', 'HTTP[:]//X[.]Y'],
    ['www.bank.com', 'www[.]bank[.]com'],
    ['me@corp.example', 'me@corp[.]example'],
    ['mailto:me', 'mailto[:]me'],
    ['10.0.0.1:8080', '10[.]0[.]0[.]1[:]8080'],
    // Dots that IDNA or NFKC read as a dot.
    ['evil。com', 'evil[。]com'],
    ['evil．com', 'evil[．]com'],
    ['evil｡com', 'evil[｡]com'],
    ['evil․com', 'evil[․]com'],
    ['evil﹒com', 'evil[﹒]com'],
    ['evil：//x', 'evil[：]//x'],
  ])('breaks the link pattern in %j', (name, shown) => {
    expect(unlinkable(name)).toBe(shown);
  });

  it('leaves sentence punctuation alone', () => {
    expect(unlinkable('Acme Inc. (Berlin): Sales & Ops.')).toBe('Acme Inc. (Berlin): Sales & Ops.');
    expect(unlinkable('Ends with a dot.')).toBe('Ends with a dot.');
  });

  it('puts a name on one line: line breaks and control characters become one space', () => {
    expect(unlinkable('Acme\r\n\r\nLog in again\u2028now\tplease')).toBe(
      'Acme Log in again now please',
    );
  });

  it('never leaves a dot or colon directly before a non-space character', () => {
    const hostile = 'a.b.c:d..e::f.\u3002g';
    expect(unlinkable(hostile)).not.toMatch(/[.:\u3002][^\s\]]/);
  });
});

describe('escapeHtml', () => {
  it('escapes markup and quotes', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
    );
  });
});
