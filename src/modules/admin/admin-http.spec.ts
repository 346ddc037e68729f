import { describe, expect, it } from '@jest/globals';
import { NotFoundError } from 'adminjs';
import { AppError } from '../../common/errors/app-error.js';
import {
  crossOriginRefusal,
  formFields,
  hasFilePart,
  nulCharacterRefusal,
  toAdminHttpError,
  type PanelRequest,
} from './admin-http.js';

function request(method: string, headers: Record<string, string>): PanelRequest {
  return { method, headers, protocol: 'https', host: 'admin.example.com' };
}

describe('crossOriginRefusal', () => {
  const appOrigin = 'https://app.example.com';

  it('lets GET through whatever its headers say (no action writes on GET)', () => {
    expect(
      crossOriginRefusal(request('GET', { 'sec-fetch-site': 'cross-site' }), appOrigin),
    ).toBeUndefined();
  });

  it('checks every other method, HEAD included (Fastify routes it to the GET routes)', () => {
    for (const method of ['HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE']) {
      expect({
        method,
        refusal: crossOriginRefusal(request(method, { 'sec-fetch-site': 'same-site' }), appOrigin),
      }).toEqual({ method, refusal: expect.any(String) });
      expect(
        crossOriginRefusal(request(method, { origin: 'https://app.example.com' }), appOrigin),
      ).toBeUndefined();
    }
  });

  it('accepts the request origin, APP_URL origin, or no browser headers at all', () => {
    const accepted: Record<string, string>[] = [
      { origin: 'https://admin.example.com', 'sec-fetch-site': 'same-origin' },
      { origin: 'https://app.example.com' },
      {},
    ];
    for (const headers of accepted) {
      expect(crossOriginRefusal(request('POST', headers), appOrigin)).toBeUndefined();
    }
  });

  it('refuses other sites, another scheme or port, null, and contradicting headers', () => {
    const refused: Record<string, string>[] = [
      { 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'none' },
      { origin: 'https://evil.example.com' },
      { origin: 'http://admin.example.com' },
      { origin: 'https://admin.example.com:8443' },
      { origin: 'null' },
      { origin: 'https://evil.example.com', 'sec-fetch-site': 'same-origin' },
    ];
    for (const headers of refused) {
      expect(crossOriginRefusal(request('POST', headers), appOrigin)).toEqual(expect.any(String));
    }
  });
});

describe('toAdminHttpError', () => {
  it("keeps AdminJS's 4xx status and PostgreSQL data exceptions become 400", () => {
    expect(toAdminHttpError(new NotFoundError('gone', 'x'))).toMatchObject({
      status: 404,
      code: 'route.not_found',
    });
    const pg = Object.assign(new Error('invalid input syntax for type integer'), { code: '22P02' });
    const wrapped = new Error('Failed query', { cause: pg });
    expect(toAdminHttpError(wrapped)).toMatchObject({ status: 400, code: 'admin.invalid_input' });
  });

  it('leaves everything else alone (an unexpected 500, logged by the filter)', () => {
    const bug = new TypeError('x is undefined');
    expect(toAdminHttpError(bug)).toBe(bug);
    const unique = Object.assign(new Error('duplicate'), { code: '23505' });
    expect(toAdminHttpError(unique)).toBe(unique);
    const known = new AppError('admin.x', 409, 'x');
    expect(toAdminHttpError(known)).toBe(known);
  });
});

describe('form fields of a parsed panel body', () => {
  const part = (fieldname: string, value: string) => ({
    type: 'field',
    fieldname,
    value,
    mimetype: 'text/plain',
  });

  it('unwraps multipart parts and leaves urlencoded and JSON values as they are', () => {
    expect(
      formFields({ email: part('email', 'a@b.c'), tags: [part('tags', 'x'), part('tags', 'y')] }),
    ).toEqual({
      email: 'a@b.c',
      tags: ['x', 'y'],
    });
    expect(formFields({ email: 'a@b.c', nested: { type: 'field' } })).toEqual({
      email: 'a@b.c',
      nested: { type: 'field' },
    });
    expect(formFields(undefined)).toEqual({});
  });

  it('finds file parts, alone or among repeated fields', () => {
    const file = { type: 'file', fieldname: 'upload', filename: 'x.bin' };
    expect(hasFilePart({ upload: file })).toBe(true);
    expect(hasFilePart({ name: [part('name', 'a'), file] })).toBe(true);
    expect(hasFilePart({ name: part('name', 'a'), type: 'file' })).toBe(false);
  });

  it('refuses NUL in the path, the query or a multipart field', () => {
    const at = (url: string, query: unknown, body: unknown) =>
      nulCharacterRefusal({ url, query, body })?.details?.[0]?.field;
    expect(at('/admin/api/resources/users/actions/search/a%00b', {}, undefined)).toBe('path');
    expect(at('/admin/x?q=%00', { q: 'a\u0000' }, undefined)).toBe('query.q');
    expect(at('/admin/x', {}, { name: part('name', 'N\u0000') })).toBe('body.name');
    expect(at('/admin/x', {}, { name: part('name', 'fine') })).toBeUndefined();
  });
});
