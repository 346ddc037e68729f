import type { IncomingHttpHeaders } from 'node:http';
import { hasTranslation, translate } from './i18n.js';
import { DEFAULT_LOCALE, localeFromAcceptLanguage, toLocale, type Locale } from './locales.js';

/**
 * The language of a request's error messages (API.md v1.2): its `Accept-Language` when that
 * names a supported language, else the signed-in user's locale (the auth guard's `req.user`;
 * none before the guard ran or for an API key), else English.
 */
export function requestLocale(request: {
  headers: IncomingHttpHeaders;
  user?: { locale?: string } | undefined;
}): Locale {
  return (
    localeFromAcceptLanguage(request.headers['accept-language']) ??
    (request.user?.locale === undefined ? DEFAULT_LOCALE : toLocale(request.user.locale))
  );
}

/**
 * An error body's `message` in `locale`; the `code` never changes. English is the message as
 * thrown. Other languages: a thrown message with a translation of its own (`messages`
 * namespace, keyed by the English text) gets it; any other gets its code's catalogue message
 * (`errors` namespace), so a detail added in English at the throw site gives way to the
 * code's translated meaning instead of mixing languages. A code without translations (a bare
 * HTTP status, `http.418`) keeps its English text. `details` (field-level validation notes)
 * stay English.
 */
export function localizedErrorMessage(code: string, message: string, locale: Locale): string {
  if (locale === DEFAULT_LOCALE) return message;
  if (hasTranslation(DEFAULT_LOCALE, 'messages', message)) {
    return translate(locale, 'messages', message);
  }
  if (hasTranslation(DEFAULT_LOCALE, 'errors', code)) return translate(locale, 'errors', code);
  return message;
}
