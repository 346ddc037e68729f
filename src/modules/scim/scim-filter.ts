/**
 * RFC 7644 §3.4.2.2 filters and §3.5.2 PATCH paths: a small recursive-descent parser for the
 * whole grammar (attribute expressions, `pr`, `and`/`or`/`not`, grouping, value paths), so a
 * filter is either understood or refused as `invalidFilter`; which parts the service can
 * answer is decided afterwards, on the tree (scim-query.ts).
 */

export const COMPARE_OPS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'lt', 'ge', 'le'] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];
export type FilterValue = string | number | boolean | null;

export type Filter =
  | { kind: 'compare'; attr: string; op: CompareOp; value: FilterValue }
  | { kind: 'present'; attr: string }
  | { kind: 'and' | 'or'; left: Filter; right: Filter }
  | { kind: 'not'; filter: Filter }
  /** `emails[type eq "work"]`: `attr` is the multi-valued attribute, `filter` on its values. */
  | { kind: 'valuePath'; attr: string; filter: Filter };

/** A parsed PATCH path: `attr`, `attr.sub`, `attr[filter]` or `attr[filter].sub`. */
export interface PatchPath {
  /** Lower-cased, without the core schema URN; an extension keeps its URN (`urn:…:user:department`). */
  attr: string;
  filter?: Filter;
  sub?: string;
}

export class ScimFilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScimFilterError';
  }
}

/** Core schema URNs a path may be prefixed with (`urn:…:core:2.0:User:userName` = `userName`). */
const CORE_URNS = [
  'urn:ietf:params:scim:schemas:core:2.0:user:',
  'urn:ietf:params:scim:schemas:core:2.0:group:',
];

type Token =
  | { type: 'word'; text: string }
  | { type: 'string'; value: string }
  | { type: '(' | ')' | '[' | ']' }
  | { type: 'sub'; text: string };

const MAX_FILTER_LENGTH = 2048;

function tokenize(input: string): Token[] {
  if (input.length > MAX_FILTER_LENGTH) throw new ScimFilterError('The filter is too long');
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      tokens.push({ type: c });
      i++;
      // `].value`: the sub-attribute after a value path.
      if (c === ']' && input[i] === '.') {
        const match = /^\.([A-Za-z$][\w$-]*)/.exec(input.slice(i));
        if (!match) throw new ScimFilterError(`Unexpected "." at ${i}`);
        tokens.push({ type: 'sub', text: match[1]! });
        i += match[0].length;
      }
    } else if (c === '"') {
      // A JSON string (RFC 7644: compValue strings are JSON strings).
      let j = i + 1;
      while (j < input.length && input[j] !== '"') j += input[j] === '\\' ? 2 : 1;
      if (j >= input.length) throw new ScimFilterError('Unterminated string');
      let value: unknown;
      try {
        value = JSON.parse(input.slice(i, j + 1));
      } catch {
        throw new ScimFilterError('Invalid string');
      }
      tokens.push({ type: 'string', value: value as string });
      i = j + 1;
    } else {
      const match = /^[A-Za-z0-9_$:.+-]+/.exec(input.slice(i));
      if (!match) throw new ScimFilterError(`Unexpected character "${c}" at ${i}`);
      tokens.push({ type: 'word', text: match[0] });
      i += match[0].length;
    }
  }
  return tokens;
}

/** An attribute path as written, normalised: lower case, core URN removed. */
export function normalizeAttr(raw: string): string {
  const lower = raw.toLowerCase();
  for (const urn of CORE_URNS) if (lower.startsWith(urn)) return lower.slice(urn.length);
  return lower;
}

function isAttrPath(text: string): boolean {
  return /^(urn:[a-z0-9:._-]+:)?[a-z$][\w$-]*(\.[a-z$][\w$-]*)?$/i.test(text);
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  parseAll(): Filter {
    const filter = this.parseOr();
    if (this.pos < this.tokens.length)
      throw new ScimFilterError('Unexpected input after the filter');
    return filter;
  }

  private peekWord(): string | undefined {
    const t = this.tokens[this.pos];
    return t?.type === 'word' ? t.text.toLowerCase() : undefined;
  }

  private expect(type: '(' | ')' | ']'): void {
    if (this.tokens[this.pos]?.type !== type) throw new ScimFilterError(`Expected "${type}"`);
    this.pos++;
  }

  parseOr(): Filter {
    let left = this.parseAnd();
    while (this.peekWord() === 'or') {
      this.pos++;
      left = { kind: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): Filter {
    let left = this.parseUnary();
    while (this.peekWord() === 'and') {
      this.pos++;
      left = { kind: 'and', left, right: this.parseUnary() };
    }
    return left;
  }

  private parseUnary(): Filter {
    const token = this.tokens[this.pos];
    if (token === undefined) throw new ScimFilterError('Unexpected end of the filter');
    if (token.type === 'word' && token.text.toLowerCase() === 'not') {
      this.pos++;
      this.expect('(');
      const inner = this.parseOr();
      this.expect(')');
      return { kind: 'not', filter: inner };
    }
    if (token.type === '(') {
      this.pos++;
      const inner = this.parseOr();
      this.expect(')');
      return inner;
    }
    if (token.type !== 'word' || !isAttrPath(token.text)) {
      throw new ScimFilterError('Expected an attribute name');
    }
    this.pos++;
    const attr = normalizeAttr(token.text);
    if (this.tokens[this.pos]?.type === '[') {
      this.pos++;
      const inner = this.parseOr();
      this.expect(']');
      if (this.tokens[this.pos]?.type === 'sub') {
        throw new ScimFilterError('A value path in a filter takes no sub-attribute');
      }
      return { kind: 'valuePath', attr, filter: inner };
    }
    const op = this.peekWord();
    if (op === 'pr') {
      this.pos++;
      return { kind: 'present', attr };
    }
    if (op === undefined || !(COMPARE_OPS as readonly string[]).includes(op)) {
      throw new ScimFilterError(`Expected an operator after "${token.text}"`);
    }
    this.pos++;
    return { kind: 'compare', attr, op: op as CompareOp, value: this.parseValue() };
  }

  private parseValue(): FilterValue {
    const token = this.tokens[this.pos++];
    if (token?.type === 'string') return token.value;
    if (token?.type === 'word') {
      const text = token.text.toLowerCase();
      if (text === 'true') return true;
      if (text === 'false') return false;
      if (text === 'null') return null;
      if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(token.text)) return Number(token.text);
    }
    throw new ScimFilterError('Expected a value (a "string", a number, true, false or null)');
  }

  parsePath(): PatchPath {
    const token = this.tokens[this.pos];
    if (token?.type !== 'word' || !isAttrPath(token.text)) {
      throw new ScimFilterError('Expected an attribute path');
    }
    this.pos++;
    const attr = normalizeAttr(token.text);
    if (this.tokens[this.pos]?.type !== '[') {
      if (this.pos < this.tokens.length)
        throw new ScimFilterError('Unexpected input after the path');
      return splitSub(attr);
    }
    this.pos++;
    const filter = this.parseOr();
    this.expect(']');
    const next = this.tokens[this.pos];
    let sub: string | undefined;
    if (next?.type === 'sub') {
      sub = next.text.toLowerCase();
      this.pos++;
    }
    if (this.pos < this.tokens.length) throw new ScimFilterError('Unexpected input after the path');
    return { attr, filter, ...(sub === undefined ? {} : { sub }) };
  }
}

/** `name.givenname` → attr `name`, sub `givenname`; an extension URN's dots stay its own. */
function splitSub(attr: string): PatchPath {
  const start = attr.startsWith('urn:') ? attr.lastIndexOf(':') + 1 : 0;
  const dot = attr.indexOf('.', start);
  return dot < 0 ? { attr } : { attr: attr.slice(0, dot), sub: attr.slice(dot + 1) };
}

/** Parses a `filter` query parameter; throws ScimFilterError (→ 400 invalidFilter). */
export function parseFilter(input: string): Filter {
  const tokens = tokenize(input);
  if (tokens.length === 0) throw new ScimFilterError('The filter is empty');
  return new Parser(tokens).parseAll();
}

/** Parses a PATCH operation's `path`; throws ScimFilterError (→ 400 invalidPath). */
export function parsePatchPath(input: string): PatchPath {
  const tokens = tokenize(input);
  if (tokens.length === 0) throw new ScimFilterError('The path is empty');
  return new Parser(tokens).parsePath();
}

/**
 * Whether a value (one element of a multi-valued attribute, as a plain object) matches a
 * filter: for PATCH value paths (`emails[type eq "work"]`, `members[value eq "…"]`). Strings
 * compare case-insensitively except for `value` of members (ids are case-exact anyway).
 */
export function matchesValue(filter: Filter, item: Record<string, unknown>): boolean {
  switch (filter.kind) {
    case 'and':
      return matchesValue(filter.left, item) && matchesValue(filter.right, item);
    case 'or':
      return matchesValue(filter.left, item) || matchesValue(filter.right, item);
    case 'not':
      return !matchesValue(filter.filter, item);
    case 'present': {
      const v = lookup(item, filter.attr);
      return v !== undefined && v !== null && v !== '';
    }
    case 'valuePath':
      return false;
    case 'compare':
      return compare(lookup(item, filter.attr), filter.op, filter.value);
  }
}

function lookup(item: Record<string, unknown>, attr: string): unknown {
  for (const [key, value] of Object.entries(item)) if (key.toLowerCase() === attr) return value;
  return undefined;
}

function compare(actual: unknown, op: CompareOp, expected: FilterValue): boolean {
  const a = typeof actual === 'string' ? actual.toLowerCase() : actual;
  const e = typeof expected === 'string' ? expected.toLowerCase() : expected;
  switch (op) {
    case 'eq':
      return a === e || (e === null && a === undefined);
    case 'ne':
      return a !== e;
    case 'co':
      return typeof a === 'string' && typeof e === 'string' && a.includes(e);
    case 'sw':
      return typeof a === 'string' && typeof e === 'string' && a.startsWith(e);
    case 'ew':
      return typeof a === 'string' && typeof e === 'string' && a.endsWith(e);
    case 'gt':
      return typeof a === typeof e && e !== null && (a as number | string) > e;
    case 'lt':
      return typeof a === typeof e && e !== null && (a as number | string) < e;
    case 'ge':
      return typeof a === typeof e && e !== null && (a as number | string) >= e;
    case 'le':
      return typeof a === typeof e && e !== null && (a as number | string) <= e;
  }
}
