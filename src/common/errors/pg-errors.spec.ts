import { describe, expect, it } from '@jest/globals';
import { isUniqueViolation } from './pg-errors.js';

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
