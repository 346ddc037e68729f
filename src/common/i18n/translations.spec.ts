import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorDefinition } from '../errors/app-error.js';
import { hasTranslation, translate, TRANSLATIONS, type Namespace } from './i18n.js';
import { localizedErrorMessage, requestLocale } from './error-messages.js';
import { localeFromAcceptLanguage, SUPPORTED_LOCALES } from './locales.js';

const SRC = fileURLToPath(new URL('../..', import.meta.url));

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(path, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) out.push(path);
  }
  return out;
}

/** Every error catalogue (a `defineErrors` result) exported anywhere under src/. */
async function catalogueEntries(): Promise<ErrorDefinition[]> {
  const files = sourceFiles(SRC).filter((f) => readFileSync(f, 'utf8').includes('defineErrors({'));
  const entries: ErrorDefinition[] = [];
  for (const file of files) {
    const mod = (await import(file)) as Record<string, unknown>;
    for (const value of Object.values(mod)) {
      const codes = (value as { codes?: Record<string, string> } | null)?.codes;
      if (typeof value !== 'object' || value === null || codes === undefined) continue;
      for (const key of Object.keys(codes)) {
        entries.push((value as Record<string, ErrorDefinition>)[key]!);
      }
    }
  }
  return entries;
}

/** Codes written as literals outside the catalogues: `new AppError('x.y', …)`, status maps. */
function literalCodes(): Set<string> {
  const codes = new Set<string>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/new AppError\(\s*'([a-z_]+(?:\.[a-z_]+)+)'/g)) codes.add(m[1]!);
    for (const m of text.matchAll(/^\s+\d{3}: '([a-z_]+\.[a-z_]+)',$/gm)) codes.add(m[1]!);
  }
  return codes;
}

const leaves = (ns: Namespace, locale: (typeof SUPPORTED_LOCALES)[number]) =>
  Object.keys(TRANSLATIONS[locale][ns]).sort();

describe('translations', () => {
  it('every language has exactly the keys English has, none empty', () => {
    for (const ns of Object.keys(TRANSLATIONS.en) as Namespace[]) {
      for (const locale of SUPPORTED_LOCALES) {
        expect({ locale, ns, keys: leaves(ns, locale) }).toEqual({
          locale,
          ns,
          keys: leaves(ns, 'en'),
        });
        for (const [key, text] of Object.entries(TRANSLATIONS[locale][ns])) {
          expect({ locale, key, text: text.trim() }).not.toEqual({ locale, key, text: '' });
        }
      }
    }
  });

  it('every placeholder of an English text appears in each translation, and no other', () => {
    const placeholders = (text: string) =>
      [...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();
    for (const ns of Object.keys(TRANSLATIONS.en) as Namespace[]) {
      for (const [key, english] of Object.entries(TRANSLATIONS.en[ns])) {
        for (const locale of SUPPORTED_LOCALES) {
          const text = (TRANSLATIONS[locale][ns] as Record<string, string>)[key] ?? '';
          expect({ locale, key, names: placeholders(text) }).toEqual({
            locale,
            key,
            names: placeholders(english),
          });
        }
      }
    }
  });

  it('every error code in the catalogues has a message in each language; English is the catalogue text', async () => {
    const entries = await catalogueEntries();
    expect(entries.length).toBeGreaterThan(50);
    for (const { code, message } of entries) {
      for (const locale of SUPPORTED_LOCALES) {
        expect({ code, locale, translated: hasTranslation(locale, 'errors', code) }).toEqual({
          code,
          locale,
          translated: true,
        });
      }
      // A code two catalogues share has one generic text; the other one's is a `messages` key.
      const english = translate('en', 'errors', code);
      if (english !== message) {
        expect({ code, message, own: hasTranslation('en', 'messages', message) }).toEqual({
          code,
          message,
          own: true,
        });
      }
    }
  });

  it('codes written outside the catalogues have messages in each language too', () => {
    const codes = literalCodes();
    expect(codes).toContain('request.method_not_allowed');
    for (const code of codes) {
      for (const locale of SUPPORTED_LOCALES) {
        expect({ code, locale, translated: hasTranslation(locale, 'errors', code) }).toEqual({
          code,
          locale,
          translated: true,
        });
      }
    }
  });

  it('every `messages` key is a message some source file throws', () => {
    const sources = sourceFiles(SRC)
      .filter((f) => !relative(SRC, f).startsWith('common/i18n'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    for (const message of Object.keys(TRANSLATIONS.en.messages)) {
      const literal = message.includes("'") ? JSON.stringify(message) : `'${message}'`;
      expect({ message, thrown: sources.includes(literal) }).toEqual({ message, thrown: true });
    }
  });
});

describe('error messages', () => {
  it('keep English as thrown and follow the language otherwise', () => {
    expect(localizedErrorMessage('team.not_found', 'Team not found', 'en')).toBe('Team not found');
    expect(localizedErrorMessage('team.not_found', 'Team not found', 'de')).toBe(
      'Team nicht gefunden',
    );
    expect(localizedErrorMessage('team.not_found', 'Team not found', 'fr')).toBe(
      'Équipe introuvable',
    );
    // A message of its own is translated as itself; an unknown detail gives way to the code's.
    expect(localizedErrorMessage('auth.unauthorized', 'The session has ended', 'fr')).toBe(
      'La session est terminée',
    );
    expect(
      localizedErrorMessage('billing.not_configured', 'STRIPE_WEBHOOK_SECRET is not set', 'de'),
    ).toBe('Die Abrechnung ist auf diesem Server nicht eingerichtet');
    expect(localizedErrorMessage('http.418', "I'm a Teapot", 'de')).toBe("I'm a Teapot");
  });

  it('take the Accept-Language first, then the signed-in user, then English', () => {
    const req = (acceptLanguage?: string, locale?: string) => ({
      headers: acceptLanguage === undefined ? {} : { 'accept-language': acceptLanguage },
      user: locale === undefined ? undefined : { locale },
    });
    expect(requestLocale(req('fr', 'de'))).toBe('fr');
    expect(requestLocale(req('es', 'de'))).toBe('de');
    expect(requestLocale(req(undefined, 'de'))).toBe('de');
    expect(requestLocale(req('es'))).toBe('en');
    expect(requestLocale(req(undefined, 'xx'))).toBe('en');
  });
});

describe('Accept-Language', () => {
  it.each([
    ['de-AT', 'de'],
    ['de-AT,de;q=0.9,en;q=0.5', 'de'],
    ['en;q=0.3, fr;q=0.8, de;q=0.5', 'fr'],
    ['es, fr-CA;q=0.4', 'fr'],
    ['FR-fr', 'fr'],
    ['en-GB', 'en'],
    ['de;q=0, fr;q=0.1', 'fr'],
    ['*', 'en'],
  ])('%j → %s', (header, locale) => {
    expect(localeFromAcceptLanguage(header)).toBe(locale);
  });

  it.each([undefined, '', 'es', 'ja, zh;q=0.8', 'de;q=0'])('%j → none', (header) => {
    expect(localeFromAcceptLanguage(header)).toBeUndefined();
  });
});
