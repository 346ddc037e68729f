import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, signUp, type SignedUp } from '../support/auth.js';

/**
 * Each app instance authenticates with its own JWT key and its own database pool. (A
 * process-wide passport strategy registry used to let the last app booted win, so closing a
 * second app turned the first one's authenticated routes into 500s.)
 */
describe('auth is per app instance', () => {
  let first: TestApp;
  let second: TestApp | undefined;
  let firstUser: SignedUp;
  let secondUser: SignedUp;

  const me = (t: TestApp, token: string) =>
    t.http.get('/api/v1/users/me').set('Authorization', bearer(token));

  beforeAll(async () => {
    first = await createTestApp({ env: { JWT_SECRET: 'first-app-secret-'.padEnd(48, 'a') } });
    firstUser = await signUp(first);
    second = await createTestApp({ env: { JWT_SECRET: 'second-app-secret-'.padEnd(48, 'b') } });
    secondUser = await signUp(second);
  }, 60_000); // two apps booted one after the other

  afterAll(async () => {
    await second?.close();
    await first.close();
  });

  it('while both run, each accepts only the tokens it signed (same database, other key)', async () => {
    const a = await me(first, firstUser.accessToken).expect(200);
    expect(a.body).toMatchObject({ id: firstUser.user.id, email: firstUser.email });
    const b = await me(second!, secondUser.accessToken).expect(200);
    expect(b.body).toMatchObject({ id: secondUser.user.id, email: secondUser.email });

    const rejected = await me(first, secondUser.accessToken).expect(401);
    expect(rejected.body).toMatchObject({ statusCode: 401, code: 'auth.unauthorized' });
    await me(second!, firstUser.accessToken).expect(401);
  });

  it('after the second app closes, the first still authenticates with its own pool and key', async () => {
    await second!.close();
    second = undefined;
    const res = await me(first, firstUser.accessToken).expect(200);
    expect(res.body).toMatchObject({ id: firstUser.user.id, email: firstUser.email });
    // An authenticated write that reads and writes the database through the first app's pool.
    await first.http
      .patch('/api/v1/users/me')
      .set('Authorization', bearer(firstUser.accessToken))
      .send({ name: 'Still here' })
      .expect(200);
    const rejected = await me(first, secondUser.accessToken).expect(401);
    expect(rejected.body).toMatchObject({ code: 'auth.unauthorized' });
  });
});
