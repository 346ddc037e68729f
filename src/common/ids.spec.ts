import { describe, expect, it } from '@jest/globals';
import { MAX_ID, parseId } from './ids.js';

describe('parseId', () => {
  it.each([
    ['1', 1],
    ['42', 42],
    [String(MAX_ID), MAX_ID],
  ])('accepts %j', (raw, id) => {
    expect(parseId(raw)).toBe(id);
  });

  it.each(['abc', '0', '-1', '1.5', '01', ' 1', '1e3', '', String(MAX_ID + 1), '99999999999'])(
    'rejects %j',
    (raw) => {
      expect(parseId(raw)).toBeUndefined();
    },
  );

  it('accepts numbers already converted by the global pipe, within int4', () => {
    expect(parseId(7)).toBe(7);
    for (const bad of [NaN, 0, -1, 1.5, MAX_ID + 1, Infinity]) expect(parseId(bad)).toBeUndefined();
  });
});
