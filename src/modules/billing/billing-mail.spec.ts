import { describe, expect, it } from '@jest/globals';
import { formatAmount, formatDate } from './billing-mail.js';

describe('billing mail formatting', () => {
  it("reads an amount in the currency's minor unit, in the recipient's language", () => {
    expect(formatAmount('en', 1200, 'usd')).toBe('$12.00');
    expect(formatAmount('de', 1200, 'eur')).toMatch(/^12,00\s€$/);
    expect(formatAmount('fr', 123456, 'eur')).toMatch(/^1\s234,56\s€$/);
    // JPY has no minor unit: 500 is ¥500.
    expect(formatAmount('en', 500, 'jpy')).toBe('¥500');
  });

  it('falls back to two decimals for a currency Intl does not know', () => {
    expect(formatAmount('en', 1234, 'zz1')).toBe('12.34 ZZ1');
  });

  it('writes a date in UTC in the language', () => {
    const at = Date.UTC(2026, 11, 14, 23, 30) / 1000;
    expect(formatDate('en', at)).toBe('December 14, 2026');
    expect(formatDate('de', at)).toBe('14. Dezember 2026');
    expect(formatDate('fr', at)).toBe('14 décembre 2026');
  });
});
