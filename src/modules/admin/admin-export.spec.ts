import { describe, expect, it } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import { csvChunk, defuseCell } from './admin-export.js';
import { canReadBackOffice } from './admin-access.js';

describe('CSV export cells', () => {
  it.each(['=1+1', '+1', '-2', '@SUM(A1)'])(
    'prefixes %j, which a spreadsheet would run as a formula, with a quote',
    (value) => {
      expect(defuseCell(value)).toBe(`'${value}`);
    },
  );

  // A spreadsheet may split a cell on its locale's list separator (`;` where `,` is the decimal
  // mark), on tab or pipe, or on a line break; each piece then starts a cell of its own.
  it.each([
    ['x;=1+1', "x;'=1+1"],
    ['x,=1+1', "x,'=1+1"],
    ['x\t=1+1', "x\t'=1+1"],
    ['x|=1+1', "x|'=1+1"],
    ['x\n=1+1', "x\n'=1+1"],
    ['x\r\n@SUM(A1)', "x\r\n'@SUM(A1)"],
    ['a;b;+1;-2', "a;b;'+1;'-2"],
    // Whitespace a spreadsheet may trim before the formula.
    ['x; =1+1', "x; '=1+1"],
    ['x;\t=1+1', "x;\t'=1+1"],
    [' =1+1', " '=1+1"],
    ['\t=1+1', "\t'=1+1"],
    ['\r\n-2', "\r\n'-2"],
  ])('neutralises a formula after any delimiter: %j → %j', (value, defused) => {
    expect(defuseCell(value)).toBe(defused);
  });

  it('leaves no piece of a defused cell starting with a formula, however it is split', () => {
    const values = ['x;=1', '\t=1', ' ;\t|-1', 'a\r\n+1', ',@x', '=1;=2,=3\t=4|=5\n=6'];
    for (const value of values) {
      for (const piece of defuseCell(value).split(/[,;\t|\r\n]/)) {
        expect({ value, piece, formula: /^\s*[=+\-@]/.test(piece) }).toEqual({
          value,
          piece,
          formula: false,
        });
      }
    }
  });

  it.each(['plain', 'a=b', '', "'quoted", 'Doe, Jane', 'a - b', 'x@y.z', '2026-01-02', '\tx'])(
    'leaves %j as it is (no formula in any piece)',
    (value) => {
      expect(defuseCell(value)).toBe(value);
    },
  );

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
