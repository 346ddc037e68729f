import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AdminPanelHost } from '../../src/modules/admin/admin-panel.host.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, signUp } from '../support/auth.js';

describe('ADMIN_PANEL=false', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { ADMIN_PANEL: 'false' } });
  });

  afterAll(async () => {
    await t.close();
  });

  it('mounts no admin panel: /admin, its login page and its assets answer 404', async () => {
    for (const path of ['/admin', '/admin/login', '/admin/frontend/assets/components.bundle.js']) {
      const res = await t.unchecked.get(path);
      expect(res.status).toBe(404);
    }
    const login = await t.unchecked
      .post('/admin/login')
      .type('form')
      .send({ email: 'a@example.test', password: 'x' });
    expect(login.status).toBe(404);
  });

  it('still serves the API', async () => {
    const user = await signUp(t);
    const me = await t.http.get('/api/v1/users/me').set('Authorization', bearer(user.accessToken));
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(user.email);
  });
});

describe('ADMIN_PANEL=true (the default): the panel loads on its first request', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  it('is not loaded by start-up or by API traffic', async () => {
    const user = await signUp(t);
    await t.http.get('/api/v1/users/me').set('Authorization', bearer(user.accessToken));
    await t.http.get('/health/ready');
    expect(t.app.get(AdminPanelHost).loaded).toBe(false);
  });

  it('loads once for concurrent first requests, and every one of them is served', async () => {
    const first = await Promise.all([
      t.unchecked.get('/admin/login'),
      t.unchecked.get('/admin/login'),
      t.unchecked.get('/admin'),
    ]);
    expect(first.map((res) => res.status)).toEqual([200, 200, 302]);
    expect(first[0]?.text).toContain('<title>nest-saas back office</title>');
    expect(first[2]?.headers.location).toBe('/admin/login');
    expect(t.app.get(AdminPanelHost).loaded).toBe(true);
    const again = await t.unchecked.get('/admin/login');
    expect(again.status).toBe(200);
  });
});
