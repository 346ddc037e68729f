/**
 * Dots and colons (and the look-alikes that IDNA or NFKC turn into them) are what make text a
 * link to a mail client's auto-linker: `evil.example.com/login`, `https://x.y`, `www.x`, an
 * e-mail address, `10.0.0.1:8080`. Mail clients linkify plain text on their own, in the
 * text part, in the HTML part and sometimes in the subject, and no markup or invisible
 * character stops all of them.
 */
const LINK_PUNCTUATION = /([.:\u2024\u3002\uFE52\uFE55\uFF0E\uFF1A\uFF61])(?=\S)/gu;

/**
 * A user-chosen name (a team's, an inviter's) as plain text for a mail that no client turns
 * into a link: each dot or colon that is directly followed by more text is bracketed
 * (`evil[.]example[.]com/login`, `https[:]//x[.]y`), the "defanged" spelling people read as
 * what it is. A dot or colon before a space or at the end (`Acme Inc.`, `Sales: EMEA`) stays.
 * Line breaks and other control characters become spaces: a name is one line of text.
 * Escape the result with `escapeHtml` for an HTML part.
 */
export function unlinkable(name: string): string {
  return name.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').replace(LINK_PUNCTUATION, '[$1]');
}

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}
