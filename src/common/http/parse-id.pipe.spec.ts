import { describe, expect, it } from '@jest/globals';
import { AppError } from '../errors/app-error.js';
import { ParseIdPipe } from './parse-id.pipe.js';

describe('ParseIdPipe', () => {
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
