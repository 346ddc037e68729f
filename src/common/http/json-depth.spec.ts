import { describe, expect, it } from '@jest/globals';
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from './json-depth.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const nested = (depth: number, open = '[', close = ']') => open.repeat(depth) + close.repeat(depth);

describe('jsonNestsDeeperThan', () => {
  it('counts arrays and objects together, up to and including the limit', () => {
    expect(jsonNestsDeeperThan(bytes(nested(3)), 3)).toBe(false);
    expect(jsonNestsDeeperThan(bytes(nested(4)), 3)).toBe(true);
    expect(jsonNestsDeeperThan(bytes('{"a":[{"b":[1]}]}'), 4)).toBe(false);
    expect(jsonNestsDeeperThan(bytes('{"a":[{"b":[{}]}]}'), 4)).toBe(true);
  });

  it('measures depth, not the number of brackets (siblings do not add up)', () => {
    const wide = `[${Array.from({ length: 1000 }, () => '{"a":[1,2]}').join(',')}]`;
    expect(jsonNestsDeeperThan(bytes(wide), 3)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes and multi-byte characters included', () => {
    expect(jsonNestsDeeperThan(bytes(JSON.stringify({ a: '[[[[{{{{' })), 1)).toBe(false);
    expect(jsonNestsDeeperThan(bytes(JSON.stringify({ a: 'say \\"[[[[\\" ok' })), 1)).toBe(false);
    expect(jsonNestsDeeperThan(bytes(JSON.stringify({ a: 'é€😀[[[' })), 1)).toBe(false);
    expect(jsonNestsDeeperThan(bytes(`{"a\\"[[":[[1]]}`), 2)).toBe(true);
  });

  it('stops at the first level too deep, and reads a 100 kB body in a few milliseconds', () => {
    expect(jsonNestsDeeperThan(bytes(nested(40_000)), MAX_JSON_DEPTH)).toBe(true);
    const body = bytes(JSON.stringify({ items: Array.from({ length: 4000 }, (_, i) => [i, 'x']) }));
    expect(body.length).toBeGreaterThan(30_000);
    const start = performance.now();
    for (let i = 0; i < 20; i++) expect(jsonNestsDeeperThan(body, MAX_JSON_DEPTH)).toBe(false);
    // Generous bound for a loaded CI machine; measured about 0.3 ms.
    expect((performance.now() - start) / 20).toBeLessThan(20);
  });
});
