import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestApp, type TestApp } from '../support/app.js';

/**
 * AdminJS's front-end bundles (megabytes, loaded by every panel page) are revalidated like
 * Express's sendFile served them: an unchanged file is a 304 without a body.
 */
describe('admin panel front-end files', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  it('sends ETag and Last-Modified, and 304 for a file the browser has', async () => {
    const path = '/admin/frontend/assets/app.bundle.js';
    const first = await t.http.get(path).expect(200);
    expect(first.headers['content-type']).toMatch(/javascript/);
    const etag = first.headers['etag'];
    expect(etag).toMatch(/^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    expect(first.headers['last-modified']).toEqual(expect.any(String));
    const again = await t.http.get(path).set('If-None-Match', etag!).expect(304);
    expect(again.text ?? '').toBe('');
    await t.http.get(path).set('If-None-Match', 'W/"other"').expect(200);
  });
});
