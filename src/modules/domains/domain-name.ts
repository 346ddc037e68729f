import { domainToASCII, domainToUnicode } from 'node:url';

/** RFC 1035: a name is at most 253 characters in text form (255 octets on the wire). */
export const MAX_DOMAIN_LENGTH = 253;
/** RFC 1035: a label is at most 63 octets. */
const MAX_LABEL_LENGTH = 63;
/** Longer input is refused before any Unicode work (NFKC and IDNA on unbounded input). */
const MAX_INPUT_LENGTH = 1024;

/** Why an input is not a domain a team may claim (the 400's message names it). */
export type DomainProblem =
  'empty' | 'too_long' | 'invalid_characters' | 'ip_address' | 'single_label' | 'invalid_label';

export const DOMAIN_PROBLEM_MESSAGES: Record<DomainProblem, string> = {
  empty: 'domain must not be empty',
  too_long: `domain must be at most ${MAX_DOMAIN_LENGTH} characters (as ASCII) with labels of at most ${MAX_LABEL_LENGTH}`,
  invalid_characters:
    'domain must be a host name like example.com: letters, digits, hyphens and dots only (no scheme, path, port, @ or spaces)',
  ip_address: 'domain must be a name, not an IP address',
  single_label: 'domain must have at least two labels, like example.com',
  invalid_label:
    'each label of domain must be 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen',
};

export type DomainCheck = { ok: true; domain: string } | { ok: false; problem: DomainProblem };

/** Ideographic and full-width full stops, which IDNA (UTS #46) maps to '.'. */
const DOT_VARIANTS = /[\u3002\uff0e\uff61]/g;
/** What may appear in a domain before IDNA: letters, marks and digits of any script, '-' and '.'. */
const UNICODE_HOST = /^[\p{L}\p{M}\p{N}.-]+$/u;
const ASCII_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** The WHATWG host parser reads a name whose last label is a number (decimal or 0x hex) as IPv4. */
const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/i;

/**
 * The canonical form of a domain a team claims, as stored in `team_domains.domain`: NFKC,
 * IDNA to A-labels (`bücher.de` → `xn--bcher-kva.de`, by `node:url`'s `domainToASCII`, UTS #46
 * as browsers apply it), lower-case, one trailing dot dropped (`example.com.` is the same name).
 * Refused: empty input, IP addresses (also the WHATWG forms `127.1`, `0x7f.1`), single labels
 * (`localhost`, a bare TLD), anything with a scheme, path, port, `@`, `_` or spaces, labels over
 * 63 or names over 253 characters, and labels that start or end with a hyphen.
 *
 * Public suffixes (`co.uk`) are not refused here: proving one would need a TXT record in the
 * registry's own zone, which the verification challenge already makes impossible.
 */
export function checkDomain(input: string): DomainCheck {
  if (input.length > MAX_INPUT_LENGTH) return { ok: false, problem: 'too_long' };
  let text = input.trim().normalize('NFKC').replace(DOT_VARIANTS, '.');
  if (text.endsWith('.')) text = text.slice(0, -1);
  if (text === '') return { ok: false, problem: 'empty' };
  // Checked before domainToASCII: the WHATWG host parser would silently cut `a/b.com` to `a`.
  if (!UNICODE_HOST.test(text)) return { ok: false, problem: 'invalid_characters' };
  const labels = text.split('.');
  if (labels.some((label) => label === '')) return { ok: false, problem: 'invalid_label' };
  if (NUMERIC_LABEL.test(labels[labels.length - 1]!)) return { ok: false, problem: 'ip_address' };
  if (labels.length < 2) return { ok: false, problem: 'single_label' };

  // '' for a name IDNA refuses (bad punycode in an xn-- label, disallowed code points).
  const ascii = domainToASCII(text).toLowerCase();
  if (ascii === '') return { ok: false, problem: 'invalid_label' };
  if (ascii.length > MAX_DOMAIN_LENGTH) return { ok: false, problem: 'too_long' };
  const asciiLabels = ascii.split('.');
  if (asciiLabels.length < 2) return { ok: false, problem: 'single_label' };
  for (const label of asciiLabels) {
    if (label.length > MAX_LABEL_LENGTH) return { ok: false, problem: 'too_long' };
    if (!ASCII_LABEL.test(label)) return { ok: false, problem: 'invalid_label' };
    // Hyphens in the 3rd and 4th place are reserved for IDNA's `xn--` (RFC 5891 4.2.3.1).
    if (label.slice(2, 4) === '--' && !label.startsWith('xn--')) {
      return { ok: false, problem: 'invalid_label' };
    }
    // An A-label must decode to a U-label that encodes back to it. Node 20's domainToASCII
    // already answers '' for bad punycode; Node 24's passes `xn--zz` through unchanged.
    if (label.startsWith('xn--') && !isValidALabel(label)) {
      return { ok: false, problem: 'invalid_label' };
    }
  }
  if (NUMERIC_LABEL.test(asciiLabels[asciiLabels.length - 1]!)) {
    return { ok: false, problem: 'ip_address' };
  }
  return { ok: true, domain: ascii };
}

function isValidALabel(label: string): boolean {
  const unicode = domainToUnicode(label);
  return unicode !== '' && unicode !== label && domainToASCII(unicode) === label;
}

/** The canonical form of `input` (see `checkDomain`), or undefined when it is not a valid domain. */
export function normalizeDomain(input: string): string | undefined {
  const result = checkDomain(input);
  return result.ok ? result.domain : undefined;
}

/**
 * The canonical domain of an email address (the part after its last `@`, see `checkDomain`),
 * or undefined when the address has no local part or no valid domain.
 */
export function domainOfEmail(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  if (at <= 0) return undefined;
  return normalizeDomain(email.slice(at + 1));
}

/** The TXT record name a team publishes to prove `domain` (a canonical domain). */
export function challengeName(domain: string): string {
  return `_nest-saas-challenge.${domain}`;
}
