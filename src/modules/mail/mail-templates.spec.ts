import { describe, expect, it } from '@jest/globals';
import { SUPPORTED_LOCALES } from '../../common/i18n/locales.js';
import { TEAM_ROLES } from '../../database/schema.js';
import { MAIL_TEMPLATES, renderMail, roleName, type MailTemplate } from './mail-templates.js';

const LINK = 'https://app.example.test/x?token=abc&y=1';

/** The values each template's sentences name: what its caller passes. */
const VALUES: Record<MailTemplate, Record<string, string>> = {
  verifySignUp: {},
  verifyChange: {},
  emailChangeNotice: { email: 'new@example.test' },
  passwordReset: {},
  invitation: {
    inviter: 'Ada <b>',
    team: 'R&D',
    role: 'owner',
    expires: '2026-12-14T10:00:00.000Z',
  },
  paymentFailed: { team: 'R&D', invoice: 'ABC-0001', amount: '$12.00' },
  trialWillEnd: { team: 'R&D', date: 'December 14, 2026' },
};

const templates = Object.keys(MAIL_TEMPLATES) as MailTemplate[];

describe('mails', () => {
  describe.each(SUPPORTED_LOCALES)('in %s', (locale) => {
    it.each(templates)('%s renders with every value filled in', (template) => {
      const params = VALUES[template];
      const mail = renderMail(locale, template, 'to@example.test', { link: LINK, params });
      expect(mail.to).toBe('to@example.test');
      expect(mail.kind).toBe(MAIL_TEMPLATES[template].kind);
      for (const part of [mail.subject, mail.text, mail.html!]) {
        expect(part).not.toMatch(
          /\{\{|\}\}|undefined|\b[a-zA-Z]+\.(subject|intro|action|validity|ignore|pending|warning|retry|next)\b/,
        );
      }
      expect(mail.subject.length).toBeGreaterThan(5);
      for (const value of Object.values(params)) {
        expect(mail.text).toContain(value);
        expect(mail.html).not.toContain(value.includes('<') || value.includes('&') ? value : '\0');
      }
      if (MAIL_TEMPLATES[template].link) {
        expect(mail.text).toContain(LINK);
        expect(mail.html).toContain(`<a href="${LINK.replace('&', '&amp;')}">`);
      }
    });
  });

  it('differ between languages (nothing left untranslated by mistake)', () => {
    for (const template of templates) {
      const [en, de, fr] = SUPPORTED_LOCALES.map(
        (locale) =>
          renderMail(locale, template, 'x@example.test', { link: LINK, params: VALUES[template] })
            .subject,
      );
      expect(new Set([en, de, fr]).size).toBe(3);
    }
  });

  it('refuse to render with a value missing', () => {
    expect(() =>
      renderMail('de', 'invitation', 'x@example.test', { link: LINK, params: {} }),
    ).toThrow(/needs a value/);
    expect(() => renderMail('fr', 'passwordReset', 'x@example.test')).toThrow(/needs a link/);
  });

  it('name every team role in every language', () => {
    for (const locale of SUPPORTED_LOCALES) {
      for (const role of TEAM_ROLES) expect(roleName(locale, role)).not.toMatch(/role\./);
    }
    expect(roleName('de', 'owner')).toBe('Inhaber');
  });
});
