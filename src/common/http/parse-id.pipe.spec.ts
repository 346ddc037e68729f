import { describe, expect, it } from '@jest/globals';
import { AppError } from '../errors/app-error.js';
import { MAX_ID, ParseIdPipe, parseId } from './parse-id.pipe.js';

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

  it('the pipe answers a 400 naming the parameter', () => {
    const pipe = new ParseIdPipe();
    expect(pipe.transform('7', { type: 'param', data: 'teamId' })).toBe(7);
    try {
      pipe.transform('abc', { type: 'param', data: 'teamId' });
      throw new Error('expected a throw');
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({
        status: 400,
        code: 'request.invalid',
        details: [{ field: 'teamId' }],
      });
    }
  });
});
