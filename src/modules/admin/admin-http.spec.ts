import { describe, expect, it } from '@jest/globals';
import { NotFoundError } from 'adminjs';
import type { Request } from 'express';
import { AppError } from '../../common/errors/app-error.js';
import { crossOriginRefusal, toAdminHttpError } from './admin-http.js';

function request(method: string, headers: Record<string, string>): Request {
  return { method, headers, protocol: 'https', host: 'admin.example.com' } as unknown as Request;
}

describe('crossOriginRefusal', () => {
  const appOrigin = 'https://app.example.com';

  it('lets GET through whatever its headers say (no action writes on GET)', () => {
    expect(
      crossOriginRefusal(request('GET', { 'sec-fetch-site': 'cross-site' }), appOrigin),
    ).toBeUndefined();
  });

  it('checks every other method, HEAD included (Express routes it to the GET routes)', () => {
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
