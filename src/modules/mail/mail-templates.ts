import { translate, type MessageParams } from '../../common/i18n/i18n.js';
import type { Locale } from '../../common/i18n/locales.js';
import type { MailMessage } from './mail.service.js';
import { escapeHtml } from './mail-text.js';

/**
 * Every mail the app sends, by template: its `kind` (English, for the log and the dev
 * outbox), the paragraphs its text is made of (keys of the `mail` namespace, in order) and
 * whether it carries a link (`action` and `validity` then make the link's paragraph).
 * The words live in src/common/i18n/translations/*.json; this decides only the shape.
 */
export const MAIL_TEMPLATES = {
  verifySignUp: { kind: 'verification link', before: ['intro'], link: true, after: ['ignore'] },
  verifyChange: {
    kind: 'email change confirmation link',
    before: ['intro'],
    link: true,
    after: ['ignore'],
  },
  emailChangeNotice: {
    kind: 'email change notice',
    before: ['intro', 'pending', 'warning'],
    link: false,
    after: [],
  },
  passwordReset: {
    kind: 'password reset link',
    before: ['intro'],
    link: true,
    after: ['ignore'],
  },
  invitation: { kind: 'invitation link', before: ['intro'], link: true, after: ['ignore'] },
  paymentFailed: {
    kind: 'payment failed notice',
    before: ['intro', 'retry'],
    link: true,
    after: [],
  },
  trialWillEnd: { kind: 'trial end notice', before: ['intro', 'next'], link: true, after: [] },
} as const satisfies Record<
  string,
  { kind: string; before: readonly string[]; link: boolean; after: readonly string[] }
>;

export type MailTemplate = keyof typeof MAIL_TEMPLATES;

/**
 * What a template's words need: `link` for the mails that carry one, plus the values the
 * template's sentences name (`email`, `inviter`, `team`, `role`, `expires`, `invoice`,
 * `amount`, `date`). A value left out
 * throws (see common/i18n) rather than sending a sentence with a gap.
 */
export interface MailValues {
  link?: string;
  params?: MessageParams;
}

/**
 * Renders a template in `locale` as a plain-text and an HTML part. The values go into the
 * text as they are and into the HTML escaped; names a user chose must already be
 * `unlinkable` (mail-text.ts).
 */
export function renderMail(
  locale: Locale,
  template: MailTemplate,
  to: string,
  { link, params = {} }: MailValues = {},
): MailMessage {
  const shape = MAIL_TEMPLATES[template];
  const t = (part: string, values: MessageParams) =>
    translate(locale, 'mail', `${template}.${part}`, values);
  const paragraphs = (parts: readonly string[]) => ({
    text: parts.map((part) => t(part, params)),
    html: parts.map((part) => `<p>${t(part, escapeAll(params))}</p>`),
  });
  const before = paragraphs(shape.before);
  const after = paragraphs(shape.after);
  const text = [...before.text];
  const html = [...before.html];
  if (shape.link) {
    if (link === undefined) throw new Error(`the ${template} mail needs a link`);
    text.push(`${t('action', params)} (${t('validity', params)}): ${link}`);
    html.push(
      `<p><a href="${escapeHtml(link)}">${t('action', escapeAll(params))}</a> (${t('validity', escapeAll(params))}).</p>`,
    );
  }
  text.push(...after.text);
  html.push(...after.html);
  return {
    kind: shape.kind,
    to,
    subject: t('subject', params),
    text: text.join('\n\n'),
    html: html.join(''),
  };
}

/** A team role as the mail's language names it (`owner` → `Inhaber`). */
export function roleName(locale: Locale, role: string): string {
  return translate(locale, 'mail', `role.${role}`);
}

function escapeAll(params: MessageParams): MessageParams {
  return Object.fromEntries(
    Object.entries(params).map(([key, value]) => [key, escapeHtml(String(value))]),
  );
}
