import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { API_KEY_SCOPES } from '../../src/common/auth/actor.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, signUpVerified } from '../support/auth.js';

/**
 * Operations that may be called without a token. Keep this list honest: adding an entry
 * means a route is reachable by anyone on the internet.
 */
const PUBLIC_OPERATIONS = [
  'GET /health',
  'GET /health/ready',
  'POST /api/v1/auth/sign-up',
  'POST /api/v1/auth/sign-in',
  'POST /api/v1/auth/sign-in/mfa',
  'POST /api/v1/auth/refresh',
  'POST /api/v1/auth/password-reset',
  'POST /api/v1/auth/password-reset/confirm',
  'POST /api/v1/auth/verify-email',
  'GET /api/v1/auth/providers',
  'GET /api/v1/auth/oidc/{provider}/authorize',
  'GET /api/v1/auth/oidc/{provider}/callback',
  'POST /api/v1/auth/oidc/exchange',
  // SAML sign-in: the browser on its way to and back from the team's IdP.
  'GET /api/v1/auth/sso',
  'GET /api/v1/auth/saml/{connectionId}/metadata',
  'POST /api/v1/auth/saml/{connectionId}/acs',
  'GET /api/v1/billing/plans',
  'GET /api/v1/billing/checkout/success',
  'POST /api/v1/billing/webhook',
];

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

interface Operation {
  security?: Record<string, string[]>[];
}

describe('default deny, checked against the OpenAPI document', () => {
  let t: TestApp;
  let operations: { key: string; method: (typeof METHODS)[number]; path: string; op: Operation }[];

  beforeAll(async () => {
    // With METRICS_TOKEN set, GET /metrics exists and answers its own 401 without the token.
    t = await createTestApp({ env: { METRICS_TOKEN: 'metrics-token-for-tests-0123456789' } });
    const doc = (await t.http.get('/docs-json').expect(200)).body as {
      paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
    };
    operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m] !== undefined).map((method) => ({
        key: `${method.toUpperCase()} ${path}`,
        method,
        path,
        op: item[method]!,
      })),
    );
  });

  afterAll(async () => {
    await t.close();
  });

  const isPublic = (op: Operation) => op.security === undefined || op.security.length === 0;

  it('documents only the allow-listed operations without a security requirement', () => {
    const publicOps = operations.filter((o) => isPublic(o.op)).map((o) => o.key);
    expect(publicOps.filter((key) => !PUBLIC_OPERATIONS.includes(key))).toEqual([]);
    expect(publicOps).toEqual(
      expect.arrayContaining(
        PUBLIC_OPERATIONS.filter((k) => k.includes('/auth/') || k.includes('/health')),
      ),
    );
  });

  it('every operation with a security requirement answers 401 without a token', async () => {
    const secured = operations.filter((o) => !isPublic(o.op));
    expect(secured.length).toBeGreaterThan(5);
    const failures: string[] = [];
    for (const { key, method, path } of secured) {
      const url = path.replace(/\{[^}]+\}/g, '1');
      const res = await t.http[method](url).send({});
      const expected = key === 'GET /metrics' ? 'metrics.unauthorized' : 'auth.unauthorized';
      if (res.status !== 401 || res.body?.code !== expected) {
        failures.push(`${key} -> ${res.status}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('a valid team API key with every scope gets 401 on every operation that does not list the apiKey scheme', async () => {
    const owner = await signUpVerified(t);
    const created = await t.http
      .post(`/api/v1/teams/${owner.team.id}/api-keys`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ name: 'walker', scopes: API_KEY_SCOPES })
      .expect(201);
    const key = (created.body as { key: string }).key;
    const acceptsKeys = (op: Operation) => (op.security ?? []).some((s) => 'apiKey' in s);
    const secured = operations.filter((o) => !isPublic(o.op));
    const keyOps = secured.filter((o) => acceptsKeys(o.op));
    expect(keyOps.length).toBeGreaterThan(3);
    const failures: string[] = [];
    for (const { key: opKey, method, path, op } of secured) {
      const url = path
        .replace('{teamId}', String(owner.team.id))
        .replace(/\{[^}]+\}/g, '2000000000');
      const res = await t.http[method](url).set('Authorization', bearer(key)).send({});
      // GET /metrics answers its own 401: a key is no METRICS_TOKEN.
      const expected = opKey === 'GET /metrics' ? 'metrics.unauthorized' : 'auth.unauthorized';
      const refused = res.status === 401 && res.body?.code === expected;
      // Accepting operations let the key through to the route's own answer (here a 400 or a
      // 404 for the made-up ids), never the 401.
      if (refused === acceptsKeys(op)) failures.push(`${opKey} -> ${res.status}`);
    }
    expect(failures).toEqual([]);
  });

  it('the public auth routes really are reachable without a token (not 401 for a missing token)', async () => {
    for (const key of PUBLIC_OPERATIONS.filter((k) => k.includes('/auth/'))) {
      const [method, path] = key.split(' ');
      if (method === 'GET') {
        // The providers list; an unknown provider's authorize/callback (none is configured);
        // SSO for a domain nobody verified; an unknown connection's SP metadata.
        const res = await t.http.get(
          path!
            .replace('{provider}', 'none')
            .replace('{connectionId}', '2000000000')
            .replace(/\/sso$/, '/sso?email=nobody%40example.test'),
        );
        const expected = /\{provider\}|\{connectionId\}|\/sso$/.test(path!) ? 404 : 200;
        expect({ key, status: res.status }).toEqual({ key, status: expected });
        continue;
      }
      if (path!.endsWith('/acs')) {
        // The ACS answers the browser with a redirect, for an unknown connection too.
        const res = await t.http.post(path!.replace('{connectionId}', '2000000000')).send({});
        expect({ key, status: res.status }).toEqual({ key, status: 303 });
        continue;
      }
      const res = await t.http.post(path!).send({});
      expect({ key, status: res.status }).toEqual({ key, status: 400 });
    }
  });
});
