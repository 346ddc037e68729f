import type { Locale } from '../../common/i18n/locales.js';

// How amounts and dates read in a billing mail, in its recipient's language. Pure.

/**
 * An amount in a currency's minor unit (Stripe's integers) for people: `1200, 'usd'` →
 * `$12.00` in English, `12,00 $` in German. The minor unit's size is the currency's own
 * (ISO 4217 via Intl: none for JPY); an unknown code falls back to two decimals.
 */
export function formatAmount(locale: Locale, amount: number, currency: string): string {
  const code = currency.toUpperCase();
  try {
    const format = new Intl.NumberFormat(locale, { style: 'currency', currency: code });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return format.format(amount / 10 ** digits);
  } catch {
    return `${(amount / 100).toFixed(2)} ${code}`;
  }
}

/** A Unix time (seconds) as a long date in UTC: `December 14, 2026`, `14. Dezember 2026`. */
export function formatDate(locale: Locale, unixSeconds: number): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(
    new Date(unixSeconds * 1000),
  );
}
