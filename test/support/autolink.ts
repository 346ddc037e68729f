/**
 * What a mail client's auto-linker could turn into a clickable link in plain text, found on
 * purpose more eagerly than Gmail, Outlook, Apple Mail or linkify-it do: any URL scheme they
 * know followed by something, any `www.`, and any two labels joined by a dot (or a dot look-
 * alike that IDNA or NFKC turns into one), whatever the top-level domain. That covers bare
 * domains (`evil.example.com/login`), e-mail addresses and IPv4 addresses. A test asserting
 * that this finds nothing in a text is therefore stricter than any of those clients.
 */
const SCHEME = /\b(?:https?|ftps?|mailto|file|tel|sms|irc|news|wss?|data|javascript):\S/giu;
const WWW = /\bwww[.\u3002\uFF0E\uFF61\u2024\uFE52]/giu;
const DOTTED = /[\p{L}\p{N}_-][.\u3002\uFF0E\uFF61\u2024\uFE52][\p{L}\p{N}_-]/gu;

export function findAutolinks(text: string): string[] {
  const found: string[] = [];
  for (const pattern of [SCHEME, WWW, DOTTED]) {
    for (const match of text.normalize('NFKC').matchAll(pattern)) found.push(match[0]);
  }
  return found;
}

/** The text a reader sees in an HTML body: tags dropped, character references decoded. */
export function visibleHtmlText(html: string): string {
  return html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&#(\d+);/g, (_m, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_m, code: string) => String.fromCodePoint(parseInt(code, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
