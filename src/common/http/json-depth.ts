/**
 * Deepest nesting of arrays/objects a JSON request body may have. Our DTOs nest two or three
 * levels and Stripe events about eight; 32 leaves room for any real payload. Without a cap, a
 * 100 kB body of `[[[[…` (50,000 levels) made the validation pipe recurse until RangeError:
 * about a second of CPU per unauthenticated request, answered with a 500.
 */
export const MAX_JSON_DEPTH = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * Whether UTF-8 JSON text nests deeper than `max`, by one linear pass over the bytes before
 * anything parses them: `[` and `{` outside strings open a level, `]` and `}` close one.
 * Exact for UTF-8 (every byte of a multi-byte character is ≥ 0x80, so it never looks like one
 * of these); malformed text is left to JSON.parse, which rejects it after this pass.
 * About 7 ns per byte; a 100 kB body costs well under a millisecond.
 */
export function jsonNestsDeeperThan(text: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}
