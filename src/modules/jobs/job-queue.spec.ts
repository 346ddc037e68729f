import { describe, expect, it } from '@jest/globals';
import { PgDialect } from 'drizzle-orm/pg-core';
import { toDrizzleQuery } from './job-queue.js';

const dialect = new PgDialect();

describe('toDrizzleQuery', () => {
  it('binds every placeholder again, in order, repeated ones twice, undefined as null', () => {
    const query = dialect.sqlToQuery(
      toDrizzleQuery('select $2::int, $1 as a, $2 as b, $3::jsonb', ['x', 7, undefined]),
    );
    expect(query.sql).toBe('select $1::int, $2 as a, $3 as b, $4::jsonb');
    expect(query.params).toEqual([7, 'x', 7, null]);
  });

  it('leaves text without placeholders alone', () => {
    expect(dialect.sqlToQuery(toDrizzleQuery("select '$$' as s")).sql).toBe("select '$$' as s");
  });

  it('refuses a placeholder without a value', () => {
    expect(() => toDrizzleQuery('select $2', [1])).toThrow('Placeholder $2 has no value');
  });
});
