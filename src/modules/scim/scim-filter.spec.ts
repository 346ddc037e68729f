import { describe, expect, it } from '@jest/globals';
import { matchesValue, parseFilter, parsePatchPath, ScimFilterError } from './scim-filter.js';
import { groupConditions, userConditions } from './scim-query.js';

describe('SCIM filter parser (RFC 7644 §3.4.2.2)', () => {
  it('parses the lookups Okta and Entra ID send', () => {
    expect(parseFilter('userName eq "ada@example.com"')).toEqual({
      kind: 'compare',
      attr: 'username',
      op: 'eq',
      value: 'ada@example.com',
    });
    expect(parseFilter('externalId eq "0f5c-11"')).toMatchObject({ attr: 'externalid', op: 'eq' });
    expect(parseFilter('displayName eq "Owners"')).toMatchObject({ attr: 'displayname' });
  });

  it('reads operators and logical words in any case, JSON strings with escapes, literals', () => {
    expect(parseFilter('USERNAME EQ "a\\"b"')).toMatchObject({ op: 'eq', value: 'a"b' });
    expect(parseFilter('active eq True')).toMatchObject({ value: true });
    expect(parseFilter('x eq null')).toMatchObject({ value: null });
    expect(parseFilter('x gt 10')).toMatchObject({ op: 'gt', value: 10 });
    expect(parseFilter('title pr')).toEqual({ kind: 'present', attr: 'title' });
  });

  it('gives "and" precedence over "or", and honours parentheses and not', () => {
    expect(parseFilter('a eq "1" or b eq "2" and c eq "3"')).toMatchObject({
      kind: 'or',
      left: { attr: 'a' },
      right: { kind: 'and', left: { attr: 'b' }, right: { attr: 'c' } },
    });
    expect(parseFilter('(a eq "1" or b eq "2") and c eq "3"')).toMatchObject({
      kind: 'and',
      left: { kind: 'or' },
    });
    expect(parseFilter('not (a eq "1")')).toMatchObject({ kind: 'not', filter: { attr: 'a' } });
  });

  it('strips the core schema URN and keeps sub-attributes', () => {
    expect(parseFilter('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"')).toMatchObject(
      { attr: 'username' },
    );
    expect(parseFilter('emails.value eq "x"')).toMatchObject({ attr: 'emails.value' });
    expect(parseFilter('emails[type eq "work" and value eq "x"]')).toMatchObject({
      kind: 'valuePath',
      attr: 'emails',
      filter: { kind: 'and' },
    });
  });

  it.each([
    '',
    'userName',
    'userName eq',
    'userName eq "unterminated',
    'userName like "x"',
    'userName eq "x" and',
    '(userName eq "x"',
    'userName eq "x")',
    'userName eq x',
    'eq "x"',
    'userName eq "x" extra',
    'emails[value eq "x"',
    'a'.repeat(3000) + ' eq "x"',
  ])('refuses %j', (input) => {
    expect(() => parseFilter(input)).toThrow(ScimFilterError);
  });
});

describe('PATCH paths', () => {
  it('parses attributes, sub-attributes, value paths and extension URNs', () => {
    expect(parsePatchPath('active')).toEqual({ attr: 'active' });
    expect(parsePatchPath('name.givenName')).toEqual({ attr: 'name', sub: 'givenname' });
    expect(parsePatchPath('emails[type eq "work"].value')).toMatchObject({
      attr: 'emails',
      sub: 'value',
      filter: { kind: 'compare', attr: 'type', value: 'work' },
    });
    expect(parsePatchPath('members[value eq "abc"]')).toMatchObject({
      attr: 'members',
      filter: { attr: 'value', value: 'abc' },
    });
    expect(
      parsePatchPath('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department'),
    ).toEqual({ attr: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:department' });
  });

  it('refuses malformed paths', () => {
    for (const bad of ['', 'members[', 'members[value eq "x"] extra', 'a b', '"x"']) {
      expect(() => parsePatchPath(bad)).toThrow(ScimFilterError);
    }
  });

  it('matches multi-valued attribute values against a value filter', () => {
    const filter = parsePatchPath('emails[type eq "WORK" and primary eq true]').filter!;
    expect(matchesValue(filter, { type: 'work', primary: true })).toBe(true);
    expect(matchesValue(filter, { type: 'home', primary: true })).toBe(false);
    expect(matchesValue(parseFilter('value ne "a"'), { value: 'b' })).toBe(true);
    expect(matchesValue(parseFilter('value sw "ab"'), { value: 'ABC' })).toBe(true);
  });
});

describe('supported filters (what GET /Users and /Groups answer)', () => {
  it('turns conjunctions of equalities into conditions', () => {
    expect(userConditions('userName eq "A@x.io" and externalId eq "e1"')).toEqual([
      { attr: 'userName', value: 'A@x.io' },
      { attr: 'externalId', value: 'e1' },
    ]);
    expect(userConditions('emails[value eq "a@x.io"]')).toEqual([
      { attr: 'email', value: 'a@x.io' },
    ]);
    expect(userConditions('emails.value eq "a@x.io"')).toEqual([
      { attr: 'email', value: 'a@x.io' },
    ]);
    expect(userConditions('active eq false')).toEqual([{ attr: 'active', value: false }]);
    expect(groupConditions('displayName eq "Owners" and members[value eq "u1"]')).toEqual([
      { attr: 'displayName', value: 'Owners' },
      { attr: 'member', value: 'u1' },
    ]);
  });

  it.each([
    'userName co "a"',
    'userName eq "a" or userName eq "b"',
    'not (userName eq "a")',
    'title eq "x"',
    'userName pr',
    'userName eq 1',
    'active eq "yes"',
    'userName eq',
  ])('answers %j with 400 invalidFilter', (input) => {
    expect(() => userConditions(input)).toThrow(
      expect.objectContaining({ code: 'scim.invalid_filter', status: 400 }),
    );
  });
});
