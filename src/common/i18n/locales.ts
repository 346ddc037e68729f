import Negotiator from 'negotiator';

/** The languages mails and error messages are written in (API.md v1.2). */
export const SUPPORTED_LOCALES = ['en', 'de', 'fr'] as const;
export type Locale = (typeof SUPPORTED_LOCALES)[number];

/** Where nothing else decides: the language of the code and of the error catalogues. */
export const DEFAULT_LOCALE: Locale = 'en';

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (SUPPORTED_LOCALES as readonly string[]).includes(value);
}

/**
 * The supported language an `Accept-Language` header prefers most (RFC 9110 12.5.4: q-values
 * honoured, `q=0` refused, a regional tag such as `de-AT` matching `de`), or undefined when the
 * header is absent or names none of them. negotiator is the parser Express and Koa use.
 */
export function localeFromAcceptLanguage(
  header: string | string[] | undefined,
): Locale | undefined {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value === undefined || value.trim() === '') return undefined;
  const [best] = new Negotiator({ headers: { 'accept-language': value } }).languages([
    ...SUPPORTED_LOCALES,
  ]);
  return isLocale(best) ? best : undefined;
}

/** A stored locale as a supported one: a language since retired (or garbage) reads as English. */
export function toLocale(value: string | null | undefined): Locale {
  return isLocale(value) ? value : DEFAULT_LOCALE;
}
