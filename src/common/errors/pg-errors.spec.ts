import { describe, expect, it } from '@jest/globals';
import { isDatabaseUnavailable, isUniqueViolation } from './pg-errors.js';

describe('isUniqueViolation', () => {
  const pg = { code: '23505', constraint: 'users_email_unique' };

  it('finds the driver error directly or as a (nested) cause', () => {
    expect(isUniqueViolation(pg)).toBe(true);
    expect(isUniqueViolation(new Error('Failed query', { cause: pg }))).toBe(true);
    expect(
      isUniqueViolation(
        new Error('outer', { cause: new Error('inner', { cause: pg }) }),
        'users_email_unique',
      ),
    ).toBe(true);
  });

  it('checks the constraint name when given', () => {
    expect(isUniqueViolation(pg, 'teams_stripe_customer_id_unique')).toBe(false);
  });

  it('is false for other errors', () => {
    expect(isUniqueViolation({ code: '23503' })).toBe(false);
    expect(isUniqueViolation(new Error('x'))).toBe(false);
    expect(isUniqueViolation(undefined)).toBe(false);
  });
});

describe('isDatabaseUnavailable', () => {
  const wrapped = (cause: unknown) => new Error('Failed query: select 1\nparams: ', { cause });

  it.each([
    [
      'a refused connection',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    ],
    ['a reset connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    [
      'a refused connection to every address of a host',
      new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]),
    ],
    [
      'statement_timeout',
      { code: '57014', message: 'canceling statement due to statement timeout' },
    ],
    ['admin shutdown', { code: '57P01' }],
    ['crash shutdown', { code: '57P02' }],
    ['the server starting up', { code: '57P03' }],
    ['too many connections', { code: '53300' }],
    ['a connection exception', { code: '08006' }],
    ['lock_timeout', { code: '55P03' }],
    ['pg query_timeout', new Error('Query read timeout')],
    ['a pool checkout timeout', new Error('timeout exceeded when trying to connect')],
    ['a connection timeout', new Error('Connection terminated due to connection timeout')],
    ['a lost connection', new Error('Connection terminated unexpectedly')],
    ['a discarded client', new Error('Client was closed and is not queryable')],
    ['an ended pool', new Error('Cannot use a pool after calling end on the pool')],
  ])('recognises %s, also wrapped by Drizzle', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(isDatabaseUnavailable(wrapped(error))).toBe(true);
    expect(isDatabaseUnavailable(new Error('outer', { cause: wrapped(error) }))).toBe(true);
  });

  it.each([
    ['a unique violation', { code: '23505' }],
    ['a syntax error', { code: '42601' }],
    ['invalid input', { code: '22P02' }],
    ['a bug', new TypeError('x is undefined')],
    ['nothing', undefined],
  ])('is false for %s', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
    expect(isDatabaseUnavailable(wrapped(error))).toBe(false);
  });
});
