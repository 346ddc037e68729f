import { escapeHtml } from './mail-text.js';
import type { OutboxEntry } from './dev-outbox.js';

/** GET /dev/mail's Content-Security-Policy: the page has no script and loads nothing. */
export const DEV_OUTBOX_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'";

/**
 * The dev outbox as one small HTML page. Everything from a mail (subject, recipient, text,
 * links) is escaped: subjects and texts carry user-chosen names (a team called `<script>`).
 * Links are only http(s) ones (linksIn), so an href cannot be `javascript:`.
 */
export function renderOutboxPage(entries: readonly OutboxEntry[], to: string | undefined): string {
  const filter = to === undefined ? '' : ` to <b>${escapeHtml(to)}</b>`;
  const items = entries.map(
    (entry) => `<article>
<h2>${escapeHtml(entry.subject)}</h2>
<p class="meta">${escapeHtml(entry.kind)} · to <b>${escapeHtml(entry.to)}</b> · <time datetime="${escapeHtml(entry.sentAt)}">${escapeHtml(entry.sentAt)}</time></p>
${entry.links.length === 0 ? '' : `<ul>${entry.links.map((link) => `<li><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></li>`).join('')}</ul>`}
<pre>${escapeHtml(entry.text)}</pre>
</article>`,
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dev outbox</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
article { border-top: 1px solid #ddd; padding: 0.5rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 0.5rem 0 0; }
.meta { color: #666; margin: 0.25rem 0; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f6; padding: 0.75rem; }
a { overflow-wrap: anywhere; }
</style>
</head>
<body>
<h1>Dev outbox</h1>
<p>Mails${filter} that this process's job workers handled without SMTP_URL, newest first (the last 100, kept in memory until restart). As JSON: <code>/dev/mail.json?to=&lt;address&gt;</code>.</p>
${items.length === 0 ? '<p><i>No mail yet.</i></p>' : items.join('\n')}
</body>
</html>
`;
}
