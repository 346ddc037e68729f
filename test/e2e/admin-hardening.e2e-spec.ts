import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq, sql } from 'drizzle-orm';
import supertest from 'supertest';
import { LOG_DESTINATION } from '../../src/common/logging/logging.module.js';
import { sessions, users } from '../../src/database/schema.js';
import { createStaff, decoratedActions } from '../support/admin-panel.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { signUp } from '../support/auth.js';

const ADMIN = { email: 'admin@test.com', password: 'admin123' };
/** The Host the tests address the app by (supertest's own is a random port per request). */
const HOST = 'admin.example.test';
const SAME_ORIGIN = { Host: HOST, Origin: `http://${HOST}`, 'Sec-Fetch-Site': 'same-origin' };

type Agent = ReturnType<typeof supertest.agent>;

/** Log lines the app writes (LOG_DESTINATION), parsed. */
class LogCapture {
  readonly lines: Record<string, unknown>[] = [];

  write(line: string): void {
    this.lines.push(JSON.parse(line) as Record<string, unknown>);
  }

  /** The request log line is written when the response has finished, maybe just after the client saw it. */
  async find(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    for (let i = 0; i < 50; i++) {
      const line = this.lines.find(match);
      if (line) return line;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('no such log line');
  }
}

async function signedInAdmin(t: TestApp): Promise<Agent> {
  const agent = supertest.agent(t.app.getHttpServer());
  await agent
    .post('/admin/login')
    .set(SAME_ORIGIN)
    .type('form')
    .send(ADMIN)
    .expect(302)
    .expect('Location', '/admin');
  return agent;
}

async function userRow(t: TestApp, id: number) {
  const [row] = await t.db.select().from(users).where(eq(users.id, id));
  return row!;
}

describe('admin panel hardening', () => {
  const log = new LogCapture();
  let t: TestApp;
  let agent: Agent;

  beforeAll(async () => {
    t = await createTestApp({
      env: { LOG_LEVEL: 'info' },
      override: (builder) => builder.overrideProvider(LOG_DESTINATION).useValue(log),
    });
    agent = await signedInAdmin(t);
  });

  afterAll(async () => {
    await t.close();
  });

  describe('cross-site requests', () => {
    it('refuses set-password from a sibling subdomain (Origin / Sec-Fetch-Site), changing nothing', async () => {
      const victim = await signUp(t);
      const before = await userRow(t, victim.user.id);
      const attempts: Record<string, string>[] = [
        { Origin: `http://evil.${HOST}`, 'Sec-Fetch-Site': 'same-site' },
        { Origin: 'https://attacker.example' },
        { 'Sec-Fetch-Site': 'cross-site' },
        { Origin: 'null' },
        // A page cannot forge Sec-Fetch-Site; contradicting headers are refused all the same.
        { Origin: 'https://attacker.example', 'Sec-Fetch-Site': 'same-origin' },
      ];
      for (const headers of attempts) {
        const res = await agent
          .post(`/admin/api/resources/users/records/${victim.user.id}/setPassword`)
          .set({ Host: HOST, ...headers })
          .type('form')
          .send({ password: 'attacker-chosen-password' });
        expect({ headers, status: res.status, code: res.body.code }).toEqual({
          headers,
          status: 403,
          code: 'admin.cross_site_request',
        });
        expect(res.body.message).toMatch(/same origin/);
      }
      expect(await userRow(t, victim.user.id)).toEqual(before);
      const open = await t.db
        .select()
        .from(sessions)
        .where(and(eq(sessions.userId, victim.user.id), sql`${sessions.revokedAt} is null`));
      expect(open).toHaveLength(1);
    });

    it('refuses a cross-site edit of a user (e.g. making them admin) and a cross-site login', async () => {
      const victim = await signUp(t);
      const res = await agent
        .post(`/admin/api/resources/users/records/${victim.user.id}/edit`)
        .set({ Host: HOST, Origin: 'https://attacker.example', 'Sec-Fetch-Site': 'cross-site' })
        .type('form')
        .send({ role: 'admin' });
      expect(res.status).toBe(403);
      expect((await userRow(t, victim.user.id)).role).toBe('member');

      const login = await t.http
        .post('/admin/login')
        .set({ Host: HOST, Origin: 'https://attacker.example', 'Sec-Fetch-Site': 'cross-site' })
        .type('form')
        .send(ADMIN)
        .expect(403);
      expect(login.headers['set-cookie']).toBeUndefined();

      // Express routes /ADMIN to the panel too; it lives at /admin only (its cookie path).
      for (const headers of [{ Host: HOST, Origin: 'https://attacker.example' }, SAME_ORIGIN]) {
        await t.http.post('/ADMIN/login').set(headers).type('form').send(ADMIN).expect(404);
      }
    });

    it('accepts the same changes from the panel itself (same origin), and from non-browser clients', async () => {
      const victim = await signUp(t);
      const edit = await agent
        .post(`/admin/api/resources/users/records/${victim.user.id}/edit`)
        .set(SAME_ORIGIN)
        .type('form')
        .send({ name: 'Renamed same-origin' })
        .expect(200);
      expect(edit.body.notice.type).toBe('success');
      expect((await userRow(t, victim.user.id)).name).toBe('Renamed same-origin');

      const before = (await userRow(t, victim.user.id)).passwordHash;
      await agent
        .post(`/admin/api/resources/users/records/${victim.user.id}/setPassword`)
        .set({ Host: HOST, Origin: `http://${HOST}` })
        .type('form')
        .send({ password: 'admin-chosen-password' })
        .expect(200);
      expect((await userRow(t, victim.user.id)).passwordHash).not.toBe(before);

      // Neither Origin nor Sec-Fetch-Site: not a browser, so no victim's cookie (curl, scripts).
      await agent
        .post(`/admin/api/resources/users/records/${victim.user.id}/edit`)
        .type('form')
        .send({ name: 'Renamed by a script' })
        .expect(200);
      expect((await userRow(t, victim.user.id)).name).toBe('Renamed by a script');
    });

    it('lets cross-site navigations read (GET is not a change)', async () => {
      await agent
        .get('/admin/api/resources/users/actions/list')
        .set({ Host: HOST, 'Sec-Fetch-Site': 'cross-site' })
        .expect(200);
    });
  });

  describe('behind a proxy', () => {
    let proxied: TestApp;
    let public_: TestApp;

    beforeAll(async () => {
      proxied = await createTestApp({ env: { TRUST_PROXY: 'true' } });
      public_ = await createTestApp({ env: { APP_URL: `https://${HOST}` } });
    });

    afterAll(async () => {
      await proxied.close();
      await public_.close();
    });

    const login = (app: TestApp, headers: Record<string, string>) =>
      app.http.post('/admin/login').set(headers).type('form').send(ADMIN);
    const forwarded = { Host: 'app:3000', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': HOST };

    it('with TRUST_PROXY, the origin is the one X-Forwarded-Proto/-Host describe', async () => {
      await login(proxied, { ...forwarded, Origin: `https://${HOST}` }).expect(302);
      await login(proxied, { ...forwarded, Origin: 'http://app:3000' }).expect(403);
    });

    it('without TRUST_PROXY, forwarded headers are ignored; APP_URL names the public origin', async () => {
      const plain = await createTestApp();
      try {
        await login(plain, { ...forwarded, Origin: `https://${HOST}` }).expect(403);
        await login(plain, { ...forwarded, Origin: 'http://app:3000' }).expect(302);
      } finally {
        await plain.close();
      }
      await login(public_, { ...forwarded, Origin: `https://${HOST}` }).expect(302);
      await login(public_, { ...forwarded, Origin: `https://evil.${HOST}` }).expect(403);
    });
  });

  describe('security headers and request log', () => {
    function expectSecurityHeaders(res: supertest.Response): void {
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'self'/);
      expect(res.headers['content-security-policy']).toMatch(/object-src 'none'/);
      // It would send the panel's own assets to https:// when served over plain HTTP from a
      // non-loopback host (measured in Chromium: the panel stayed blank).
      expect(res.headers['content-security-policy']).not.toMatch(/upgrade-insecure-requests/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('same-origin');
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }

    it('sends them on the login page, the admin API and admin errors', async () => {
      expectSecurityHeaders(await t.http.get('/admin/login').expect(200));
      expectSecurityHeaders(await agent.get('/admin/api/resources/users/actions/list').expect(200));
      expectSecurityHeaders(await agent.get('/admin/api/resources/nope/actions/list').expect(404));
      expectSecurityHeaders(await t.http.get('/admin').expect(302));
    });

    /** The script-src directive of a response's CSP. */
    function scriptSrc(res: supertest.Response): string {
      const csp = String(res.headers['content-security-policy']);
      return /(?:^|;)\s*script-src ([^;]*)/.exec(csp)?.[1] ?? 'none at all';
    }

    /** The attributes of every inline (not src=) script tag of a page. */
    function inlineScripts(html: string): string[] {
      return [...html.matchAll(/<script\b([^>]*)>/gi)]
        .map((m) => m[1]!)
        .filter((attributes) => !/\bsrc=/.test(attributes));
    }

    it("escapes a staff member's name in the page's state; script-src has a nonce, no 'unsafe-inline'", async () => {
      const name = '</script><script>alert(1)</script>';
      const staff = await createStaff(t, 'admin', name);
      const staffAgent = supertest.agent(t.app.getHttpServer());
      await staffAgent
        .post('/admin/login')
        .set(SAME_ORIGIN)
        .type('form')
        .send({ email: staff.email, password: staff.password })
        .expect(302);
      const nonces = new Set<string>();
      for (const path of [
        '/admin',
        '/admin/resources/users',
        `/admin/resources/users/records/${staff.id}/show`,
      ]) {
        const res = await staffAgent.get(path).expect(200);
        const html = res.text;
        expect({ path, raw: html.includes(name), alert: html.includes('<script>alert') }).toEqual({
          path,
          raw: false,
          alert: false,
        });
        expect(html).toContain(
          '\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e',
        );
        // Still the real name once the browser has read the state.
        const state = /window\.REDUX_STATE = (.*);\n/.exec(html)?.[1];
        expect((JSON.parse(state!) as { session: { title: string } }).session.title).toBe(name);

        const src = scriptSrc(res);
        expect({ path, src }).toEqual({
          path,
          src: expect.not.stringContaining("'unsafe-inline'"),
        });
        const nonce = /'nonce-([A-Za-z0-9+/=]{22,})'/.exec(src)?.[1];
        expect(nonce).toEqual(expect.any(String));
        nonces.add(nonce!);
        const inline = inlineScripts(html);
        expect(inline.length).toBeGreaterThan(0);
        expect(inline).toEqual(inline.map(() => ` nonce="${nonce}"`));
      }
      // A nonce per response.
      expect(nonces.size).toBe(3);

      const login = await t.http.get('/admin/login').expect(200);
      expect(scriptSrc(login)).not.toContain("'unsafe-inline'");
      const loginNonce = /'nonce-([^']+)'/.exec(scriptSrc(login))?.[1];
      const loginScripts = inlineScripts(login.text);
      expect(loginScripts.length).toBeGreaterThan(0);
      expect(loginScripts).toEqual(loginScripts.map(() => ` nonce="${loginNonce}"`));
      const api = await staffAgent.get('/admin/api/resources/users/actions/list').expect(200);
      expect(scriptSrc(api)).not.toContain("'unsafe-inline'");
    });

    it('logs a failed admin login with its request id', async () => {
      const res = await t.http
        .post('/admin/login')
        .set('X-Request-Id', 'failed-admin-login-1')
        .type('form')
        .send({ email: ADMIN.email, password: 'wrong-password' })
        .expect(200);
      expect(res.headers['x-request-id']).toBe('failed-admin-login-1');
      const line = await log.find(
        (l) => (l.req as { id?: unknown } | undefined)?.id === 'failed-admin-login-1',
      );
      expect(line).toMatchObject({
        msg: 'request completed',
        req: { id: 'failed-admin-login-1', method: 'POST', url: '/admin/login' },
        res: { statusCode: 200 },
      });
      expect(JSON.stringify(line)).not.toContain('wrong-password');
    });
  });

  describe('bad input answers 4xx and writes nothing', () => {
    it('unknown resource or action: 404', async () => {
      for (const path of [
        '/admin/api/resources/nope/actions/list',
        '/admin/api/resources/users/actions/nope',
        '/admin/api/resources/nope/records/1/show',
      ]) {
        const res = await agent.get(path);
        expect({ path, status: res.status, code: res.body.code }).toEqual({
          path,
          status: 404,
          code: 'admin.unknown_resource',
        });
      }
      await agent.post('/admin/api/resources/users/records/1/nope').set(SAME_ORIGIN).expect(404);
    });

    it('a body of the wrong content type or malformed multipart: 415 / 400', async () => {
      const victim = await signUp(t);
      const before = await userRow(t, victim.user.id);
      const plain = await agent
        .post(`/admin/api/resources/users/records/${victim.user.id}/edit`)
        .set(SAME_ORIGIN)
        .set('Content-Type', 'text/plain')
        .send('name=Plain');
      expect({ status: plain.status, code: plain.body.code }).toEqual({
        status: 415,
        code: 'request.unsupported_media_type',
      });
      const octets = await agent
        .post(`/admin/api/resources/users/records/${victim.user.id}/edit`)
        .set(SAME_ORIGIN)
        .set('Content-Type', 'application/octet-stream')
        .send(Buffer.from('name=Octets'));
      expect(octets.status).toBe(415);
      const multipart = await agent
        .post(`/admin/api/resources/users/records/${victim.user.id}/edit`)
        .set(SAME_ORIGIN)
        .set('Content-Type', 'multipart/form-data; boundary=xyz')
        .send('--xyz\r\nContent-Disposition: form-data; name="name"\r\n\r\nHalf a form');
      expect({ status: multipart.status, code: multipart.body.code }).toEqual({
        status: 400,
        code: 'admin.malformed_body',
      });
      const json = await agent
        .post(`/admin/api/resources/users/records/${victim.user.id}/edit`)
        .set(SAME_ORIGIN)
        .set('Content-Type', 'application/json')
        .send('{"name": ');
      expect(json.status).toBe(400);
      expect(await userRow(t, victim.user.id)).toEqual(before);
    });

    it('a NUL character in a field, a filter or the path: 400', async () => {
      const victim = await signUp(t);
      const before = await userRow(t, victim.user.id);
      const edit = await agent
        .post(`/admin/api/resources/users/records/${victim.user.id}/edit`)
        .set(SAME_ORIGIN)
        .type('form')
        .send({ name: 'Nul\u0000Name' });
      expect({ status: edit.status, code: edit.body.code, details: edit.body.details }).toEqual({
        status: 400,
        code: 'request.invalid',
        details: [{ field: 'body.name', message: 'must not contain NUL (U+0000) characters' }],
      });
      const multipart = await agent
        .post(`/admin/api/resources/users/records/${victim.user.id}/edit`)
        .set(SAME_ORIGIN)
        .field('name', 'Nul\u0000Multipart');
      expect(multipart.status).toBe(400);
      expect(await userRow(t, victim.user.id)).toEqual(before);

      const login = await t.http
        .post('/admin/login')
        .type('form')
        .send({ email: 'admin\u0000@test.com', password: 'x' });
      expect(login.status).toBe(400);
      expect(login.text).not.toMatch(/byte sequence|UTF8/);

      await agent
        .get('/admin/api/resources/users/actions/list')
        .query({ 'filters.email': 'a\u0000b' })
        .expect(400);
      await agent.get('/admin/api/resources/users/actions/search/a%00b').expect(400);
    });

    it("an unknown sort key (Object.prototype's too) falls back to the list's default sort", async () => {
      const { resources } = await decoratedActions(t);
      expect(resources.length).toBeGreaterThanOrEqual(11);
      const keys = [
        '__proto__',
        'constructor',
        'toString',
        'hasOwnProperty',
        'nope',
        'passwordHash',
      ];
      for (const resource of resources) {
        const list = `/admin/api/resources/${resource.id}/actions/list`;
        const plain = await agent.get(list).expect(200);
        const defaults = { sortBy: plain.body.meta.sortBy, direction: plain.body.meta.direction };
        for (const sortBy of keys) {
          for (const query of [{ sortBy }, { sortBy, direction: 'asc' }, { direction: sortBy }]) {
            const res = await agent.get(list).query(query);
            expect({
              resource: resource.id,
              query,
              status: res.status,
              sort: { sortBy: res.body.meta?.sortBy, direction: res.body.meta?.direction },
            }).toEqual({ resource: resource.id, query, status: 200, sort: defaults });
          }
          const search = await agent
            .get(`/admin/api/resources/${resource.id}/actions/search/a`)
            .query({ sortBy, searchProperty: sortBy });
          expect({ resource: resource.id, sortBy, status: search.status }).toEqual({
            resource: resource.id,
            sortBy,
            status: 200,
          });
          // The same names as filters are no property either: ignored.
          const filtered = await agent.get(list).query({ [`filters.${sortBy}`]: 'x' });
          expect({ resource: resource.id, filter: sortBy, status: filtered.status }).toEqual({
            resource: resource.id,
            filter: sortBy,
            status: 200,
          });
        }
      }
    });

    it('ids and filters a column cannot hold match nothing instead of failing in PostgreSQL', async () => {
      const show = await agent
        .get('/admin/api/resources/users/records/99999999999/show')
        .expect(200);
      expect(show.body.notice.type).toBe('error');
      const list = await agent
        .get('/admin/api/resources/users/actions/list')
        .query({ 'filters.id': '99999999999' })
        .expect(200);
      expect(list.body.meta.total).toBe(0);
      const sessionsList = await agent
        .get('/admin/api/resources/sessions/actions/list')
        .query({ 'filters.id': 'not-a-uuid' })
        .expect(200);
      expect(sessionsList.body.meta.total).toBe(0);
    });
  });
});
