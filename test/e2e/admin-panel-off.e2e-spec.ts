import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
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
