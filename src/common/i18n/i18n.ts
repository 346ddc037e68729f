import { createInstance } from 'i18next';
import de from './translations/de.json' with { type: 'json' };
import en from './translations/en.json' with { type: 'json' };
import fr from './translations/fr.json' with { type: 'json' };
import { DEFAULT_LOCALE, SUPPORTED_LOCALES, type Locale } from './locales.js';

/**
 * The translations, one JSON file per language with two namespaces: `errors` (the `message`
 * of each error `code`, keyed by the code itself; English must equal the catalogues' text) and
 * `mail` (every mail's subject and paragraphs). Imported as JSON modules, so tsc copies them to
 * dist/ and esbuild inlines them into dist/bundle: nothing is looked up on disk at run time.
 */
export const TRANSLATIONS: Record<Locale, typeof en> = { en, de, fr };

export type Namespace = keyof typeof en;

/** Values put into a message: `{{link}}`, `{{team}}`. */
export type MessageParams = Record<string, string | number>;

/**
 * One i18next instance for the process, initialised synchronously from the imported
 * resources. Error codes contain dots, so keys are flat (no key or namespace separator).
 * Values are not escaped here: a mail's HTML part escapes what it puts in (mail-templates.ts).
 * A missing `{{value}}` throws instead of printing an empty gap.
 */
const i18n = createInstance();
void i18n.init({
  resources: TRANSLATIONS,
  ns: Object.keys(en),
  lng: DEFAULT_LOCALE,
  fallbackLng: DEFAULT_LOCALE,
  supportedLngs: [...SUPPORTED_LOCALES],
  initAsync: false,
  keySeparator: false,
  nsSeparator: false,
  returnNull: false,
  interpolation: { escapeValue: false },
  missingInterpolationHandler: (text: string, value: unknown) => {
    throw new Error(`translation "${text}" needs a value for ${String(value)}`);
  },
});

/** The message `key` of `ns` in `locale` (else English), with `params` filled in. */
export function translate(
  locale: Locale,
  ns: Namespace,
  key: string,
  params: MessageParams = {},
): string {
  return i18n.t(key, { ...params, lng: locale, ns });
}

/** Whether `key` of `ns` has a text in `locale` itself (no fallback to English). */
export function hasTranslation(locale: Locale, ns: Namespace, key: string): boolean {
  return i18n.exists(key, { lng: locale, ns, fallbackLng: false });
}
