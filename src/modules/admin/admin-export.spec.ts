import { describe, expect, it } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import { csvChunk, defuseCell } from './admin-export.js';
import { canReadBackOffice } from './admin-access.js';

describe('CSV export cells', () => {
  it.each(['=1+1', '+1', '-2', '@SUM(A1)', '\tx', '\rx'])(
    'prefixes %j, which a spreadsheet would run as a formula, with a quote',
    (value) => {
      expect(defuseCell(value)).toBe(`'${value}`);
    },
  );

  it.each(['plain', 'a=b', '', "'quoted"])('leaves %j as it is', (value) => {
    expect(defuseCell(value)).toBe(value);
  });

  it('quotes commas, quotes and line breaks (RFC 4180, CRLF) and round-trips', () => {
    const rows = [
      { id: 1, name: 'Doe, "Bob"\nline 2', at: new Date('2026-01-02T03:04:05.000Z'), on: true },
      { id: -3, name: null, at: null, on: false },
    ];
    const text = csvChunk(rows, ['id', 'name', 'at', 'on'], true);
    expect(text).toBe(
      'id,name,at,on\r\n1,"Doe, ""Bob""\nline 2",2026-01-02T03:04:05.000Z,true\r\n-3,,,false\r\n',
    );
    expect(parse(text, { columns: true })).toEqual([
      { id: '1', name: 'Doe, "Bob"\nline 2', at: '2026-01-02T03:04:05.000Z', on: 'true' },
      { id: '-3', name: '', at: '', on: 'false' },
    ]);
  });

  it('defuses text cells but not numbers', () => {
    expect(csvChunk([{ a: '=cmd', b: -1 }], ['a', 'b'], false)).toBe("'=cmd,-1\r\n");
  });

  it('writes only the named columns, in their order', () => {
    expect(csvChunk([{ b: 2, a: 1, secret: 'x' }], ['a', 'b'], true)).toBe('a,b\r\n1,2\r\n');
  });
});

describe('canReadBackOffice', () => {
  it('lets admin and support sessions read, nobody else', () => {
    expect(canReadBackOffice({ email: 'a', role: 'admin' })).toBe(true);
    expect(canReadBackOffice({ email: 'a', role: 'support' })).toBe(true);
    expect(canReadBackOffice({ email: 'a', role: 'member' })).toBe(false);
    expect(canReadBackOffice({ email: 'a' })).toBe(false);
    expect(canReadBackOffice(undefined)).toBe(false);
  });
});
