import type { AppConfig } from '../../config/app-config.js';

/** What the outbox needs of a mail (a subset of MailMessage, which imports nothing from here). */
export interface OutboxMessage {
  /** What the mail is, for people: `verification link`, `invitation link`, ... */
  kind: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
}

/** One kept mail, as GET /dev/mail.json lists it. */
export interface OutboxEntry {
  /** The mail job's id (also its Message-ID's local part when sent over SMTP). */
  id: string;
  kind: string;
  to: string;
  subject: string;
  /** ISO 8601: when the worker handled the mail job. */
  sentAt: string;
  text: string;
  html: string | null;
  /** The http(s) links of the text part, in order, each once. */
  links: string[];
}

/** How many mails the outbox keeps (the newest). */
export const DEV_OUTBOX_CAPACITY = 100;

/**
 * The dev outbox is on outside production when no SMTP_URL is set: the mails that would have
 * gone out stay readable at GET /dev/mail. In production without SMTP nothing is kept: the
 * links are only in the log, as before.
 */
export function devOutboxEnabled(config: Pick<AppConfig, 'nodeEnv' | 'mail'>): boolean {
  return config.nodeEnv !== 'production' && config.mail.smtpUrl === undefined;
}

/**
 * Whether a connection comes from this machine (the socket's address, never X-Forwarded-For):
 * the outbox holds live reset and verification links, so a server started without
 * NODE_ENV=production and reachable from elsewhere must not hand them out.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * The last `capacity` mails this process's job workers handled without SMTP, in memory only
 * (the queued payload is encrypted in the job table; what is kept here is the decrypted mail).
 * With WORKERS=false, or with several processes, each process holds only the mails its own
 * workers handled.
 */
export class DevOutbox {
  private readonly entries: OutboxEntry[] = [];

  constructor(private readonly capacity: number = DEV_OUTBOX_CAPACITY) {}

  add(message: OutboxMessage, id: string, at: Date): void {
    this.entries.push({
      id,
      kind: message.kind,
      to: message.to,
      subject: message.subject,
      sentAt: at.toISOString(),
      text: message.text,
      html: message.html ?? null,
      links: linksIn(message.text),
    });
    if (this.entries.length > this.capacity) this.entries.shift();
  }

  /** Newest first; only the mails to `to` (any case) when given. */
  list(to?: string): OutboxEntry[] {
    const wanted = to?.toLowerCase();
    return this.entries
      .filter((entry) => wanted === undefined || entry.to.toLowerCase() === wanted)
      .reverse();
  }
}

const LINK = /https?:\/\/[^\s<>"'()[\]]+/g;

/** The http(s) links in a mail's text, each once, without trailing sentence punctuation. */
export function linksIn(text: string): string[] {
  const links = [...text.matchAll(LINK)].map((match) => match[0].replace(/[.,;:!?]+$/, ''));
  return [...new Set(links)];
}

/** User-chosen text (a team name in a subject) on one log line. */
function oneLine(text: string): string {
  return text.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ');
}

/**
 * The log line of a mail handled without SMTP: `verification link for ada@example.com:
 * http://localhost:5173/verify-email?token=…`, or the subject when the mail has no link. One
 * short line a developer can read and click in a terminal, instead of the whole mail.
 */
export function mailLogLine(message: OutboxMessage): string {
  const links = linksIn(message.text);
  const what = links.length > 0 ? links.join(' ') : `"${message.subject}"`;
  return oneLine(`${message.kind} for ${message.to}: ${what}`);
}

/**
 * True when `accept` ranks application/json above text/html (wildcards rank neither): a
 * browser gets the page, `fetch(url, { headers: { Accept: 'application/json' } })` the JSON.
 */
export function prefersJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  let json = 0;
  let html = 0;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';').map((piece) => piece.trim().toLowerCase());
    const qParam = params.find((param) => param.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!Number.isFinite(q)) continue;
    if (type === 'application/json') json = Math.max(json, q);
    else if (type === 'text/html') html = Math.max(html, q);
  }
  return json > 0 && json > html;
}
