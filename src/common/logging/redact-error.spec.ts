import { describe, expect, it } from '@jest/globals';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { DatabaseError } from 'pg';
import { redactError, serializeError } from './redact-error.js';

const SQL = 'select id, email from users where email = $1';
const EMAIL = 'ann.secret@example.test';

function uniqueViolation(): DatabaseError {
  const error = new DatabaseError('duplicate key value violates unique constraint', 100, 'error');
  error.code = '23505';
  error.detail = `Key (email)=(${EMAIL}) already exists.`;
  return error;
}

describe('serializeError', () => {
  it('keeps the SQL, type, SQLSTATE and stack of a failed query, never its values', () => {
    const error = new DrizzleQueryError(SQL, [EMAIL, 'multi\nline'], uniqueViolation());
    const text = JSON.stringify(serializeError(error));
    expect(text).toContain(SQL);
    expect(text).toContain('23505');
    expect(text).toContain('DrizzleQueryError');
    expect(text).toContain('redact-error.spec');
    expect(text).not.toContain(EMAIL);
    expect(text).not.toContain('multi');
  });

  it('leaves the logged error itself untouched', () => {
    const error = new DrizzleQueryError(SQL, [EMAIL], new Error('boom'));
    const copy = redactError(error) as DrizzleQueryError;
    expect(copy).toBeInstanceOf(DrizzleQueryError);
    expect(copy.message).toBe(`Failed query: ${SQL}`);
    expect(error.params).toEqual([EMAIL]);
    expect(error.message).toContain(EMAIL);
  });

  it('passes non-errors through', () => {
    expect(serializeError('text')).toBe('text');
    expect(serializeError(undefined)).toBeUndefined();
  });
});
