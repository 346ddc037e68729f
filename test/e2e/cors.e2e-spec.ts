import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Response } from 'supertest';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, signUp } from '../support/auth.js';

/** Every Access-Control-* header of a response. */
function corsHeaders(res: Response): Record<string, string> {
  return Object.fromEntries(
    Object.entries(res.headers as Record<string, string>).filter(([name]) =>
      name.startsWith('access-control-'),
    ),
  );
}

function preflight(t: TestApp, path: string, origin: string) {
  return t.http
    .options(path)
    .set('Origin', origin)
    .set('Access-Control-Request-Method', 'POST')
    .set('Access-Control-Request-Headers', 'authorization,content-type');
}

describe('CORS for browser frontends (CORS_ORIGINS)', () => {
  describe('with CORS_ORIGINS set', () => {
    let t: TestApp;
    const allowed = 'https://app.example.com';

    beforeAll(async () => {
      t = await createTestApp({
        env: { CORS_ORIGINS: `${allowed},http://localhost:5173` },
      });
    });

    afterAll(async () => {
      await t.close();
    });

    it('answers the preflight of an allowed origin: Authorization and Content-Type, no credentials', async () => {
      const res = await preflight(t, '/api/v1/teams', allowed).expect(204);
      expect(corsHeaders(res)).toEqual({
        'access-control-allow-origin': allowed,
        'access-control-allow-methods': 'GET,POST,PUT,PATCH,DELETE',
        'access-control-allow-headers': 'Authorization,Content-Type,X-Request-Id',
        'access-control-expose-headers': 'RateLimit,RateLimit-Policy,Retry-After,X-Request-Id',
        'access-control-max-age': '600',
      });
      expect(res.headers.vary).toMatch(/\bOrigin\b/);
    });

    it('serves an allowed origin an authenticated request with its CORS headers', async () => {
      const owner = await signUp(t);
      const res = await t.http
        .get('/api/v1/users/me')
        .set('Origin', 'http://localhost:5173')
        .set('Authorization', bearer(owner.accessToken))
        .expect(200);
      expect(res.body.email).toBe(owner.email);
      expect(corsHeaders(res)).toEqual({
        'access-control-allow-origin': 'http://localhost:5173',
        'access-control-expose-headers': 'RateLimit,RateLimit-Policy,Retry-After,X-Request-Id',
      });
      expect(res.headers.vary).toMatch(/\bOrigin\b/);
    });

    it('gives any other origin no CORS headers, on requests and preflights', async () => {
      for (const origin of ['https://evil.example.com', 'http://app.test', 'null']) {
        const res = await t.http.get('/api/v1/billing/plans').set('Origin', origin);
        expect({ origin, cors: corsHeaders(res) }).toEqual({ origin, cors: {} });
        expect(res.headers.vary).toMatch(/\bOrigin\b/);
        const pre = await preflight(t, '/api/v1/teams', origin);
        expect({ origin, cors: corsHeaders(pre), ok: pre.status < 300 }).toEqual({
          origin,
          cors: {},
          ok: false,
        });
      }
    });

    it('gives no CORS headers outside the API (health, docs, admin)', async () => {
      for (const path of ['/health', '/docs-json', '/admin/login']) {
        const res = await t.http.get(path).set('Origin', allowed);
        expect({ path, cors: corsHeaders(res), vary: res.headers.vary }).toEqual({
          path,
          cors: {},
          vary: undefined,
        });
      }
    });
  });

  describe('with CORS_ORIGINS unset outside production', () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await createTestApp({ env: { CORS_ORIGINS: undefined, APP_URL: 'http://app.test' } });
    });

    afterAll(async () => {
      await t.close();
    });

    it("allows APP_URL's origin only", async () => {
      const res = await preflight(t, '/api/v1/auth/sign-in', 'http://app.test').expect(204);
      expect(res.headers['access-control-allow-origin']).toBe('http://app.test');
      const other = await preflight(t, '/api/v1/auth/sign-in', 'http://localhost:5173');
      expect(corsHeaders(other)).toEqual({});
    });
  });
});
