import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, signUp, signUpVerified } from '../support/auth.js';
import { startSmtpCapture, type SmtpCapture } from '../support/smtp.js';

interface OutboxMail {
  id: string;
  kind: string;
  to: string;
  subject: string;
  sentAt: string;
  text: string;
  links: string[];
}

/**
 * The dev outbox: outside production and without SMTP_URL, the mails this process's job
 * workers would have sent are kept in memory and listed at GET /dev/mail (HTML, or JSON for
 * `Accept: application/json` and /dev/mail.json), newest first.
 */
describe('dev outbox (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { APP_URL: 'http://localhost:5173' } });
  });

  afterAll(async () => {
    await t.close();
  });

  async function outbox(query: Record<string, string> = {}): Promise<OutboxMail[]> {
    const res = await t.http.get('/dev/mail.json').query(query);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    return (res.body as { items: OutboxMail[] }).items;
  }

  /** The mails to `to`, once `count` of them arrived (the worker delivers within a second or so). */
  async function mailsTo(to: string, count = 1): Promise<OutboxMail[]> {
    let items = await outbox({ to });
    for (let waited = 0; items.length < count && waited < 10_000; waited += 50) {
      await sleep(50);
      items = await outbox({ to });
    }
    expect(items.length).toBeGreaterThanOrEqual(count);
    return items;
  }

  it('lists the verification mail of a sign-up with its link, as HTML and as JSON', async () => {
    const user = await signUp(t);
    const [mail] = await mailsTo(user.email);
    expect(mail).toMatchObject({
      kind: 'verification link',
      to: user.email,
      subject: 'Verify your email address',
    });
    expect(mail!.links).toHaveLength(1);
    expect(mail!.links[0]).toMatch(/^http:\/\/localhost:5173\/verify-email\?token=[\w%-]+$/);
    expect(mail!.text).toContain(mail!.links[0]);
    expect(Date.parse(mail!.sentAt)).not.toBeNaN();

    // The link works: the token in it verifies the address.
    const token = new URL(mail!.links[0]!).searchParams.get('token')!;
    await t.http.post('/api/v1/auth/verify-email').send({ token }).expect(204);

    const page = await t.http.get('/dev/mail');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).toContain(user.email);
    expect(page.text).toContain('Verify your email address');
    const href = mail!.links[0]!.replace(/&/g, '&amp;');
    expect(page.text).toContain(`<a href="${href}">`);

    // The same list as JSON when the request asks for it.
    const json = await t.http.get('/dev/mail').set('Accept', 'application/json');
    expect(json.status).toBe(200);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect((json.body as { items: OutboxMail[] }).items.some((m) => m.id === mail!.id)).toBe(true);
  });

  it('filters by recipient with ?to=', async () => {
    const a = await signUp(t);
    const b = await signUp(t);
    await mailsTo(a.email);
    await mailsTo(b.email);
    const onlyA = await outbox({ to: a.email.toUpperCase() });
    expect(onlyA.length).toBeGreaterThan(0);
    expect(onlyA.every((m) => m.to === a.email)).toBe(true);
    expect(await outbox({ to: uniqueEmail('nobody') })).toEqual([]);
    const twice = await t.http.get(`/dev/mail.json?to=${a.email}&to=${b.email}`);
    expect({ status: twice.status, code: twice.body.code }).toEqual({
      status: 400,
      code: 'request.invalid',
    });
    const html = await t.http.get('/dev/mail').query({ to: a.email });
    expect(html.text).toContain(a.email);
    expect(html.text).not.toContain(b.email);
  });

  it('escapes user-chosen text (team and inviter names) in the HTML page', async () => {
    const owner = await signUpVerified(t, { name: '<img src=x onerror=alert(2)>' });
    const team = await t.http
      .post('/api/v1/teams')
      .set('Authorization', bearer(owner.accessToken))
      .send({ name: '<script>alert(1)</script>' })
      .expect(201);
    const invitee = uniqueEmail('invitee');
    await t.http
      .post(`/api/v1/teams/${team.body.id}/invitations`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ email: invitee, role: 'member' })
      .expect(201);
    const [mail] = await mailsTo(invitee);
    expect(mail!.subject).toContain('<script>');
    expect(mail!.kind).toBe('invitation link');

    const page = await t.http.get('/dev/mail').query({ to: invitee });
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('<script>alert');
    expect(page.text).not.toContain('<img src=x');
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).toContain('&lt;img src=x onerror=alert(2)&gt;');
    // No script of its own either, so a strict policy costs nothing.
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
  });

  it('keeps only the last 100 mails', async () => {
    const first = await signUp(t);
    await mailsTo(first.email);
    const other = await signUp(t);
    await mailsTo(other.email);
    for (let i = 0; i < 100; i++) {
      await t.http.post('/api/v1/auth/password-reset').send({ email: other.email }).expect(202);
    }
    let all = await outbox();
    for (
      let waited = 0;
      // Mail jobs run in parallel slots: wait for every reset mail, not just for 100 of any.
      all.filter((m) => m.kind === 'password reset link').length < 100 && waited < 30_000;
      waited += 100
    ) {
      expect(all.length).toBeLessThanOrEqual(100);
      await sleep(100);
      all = await outbox();
    }
    expect(all).toHaveLength(100);
    expect(all.some((m) => m.to === first.email)).toBe(false);
    // 102 mails went out; the 100 reset mails came last, so they are what is left.
    expect(all.every((m) => m.kind === 'password reset link' && m.to === other.email)).toBe(true);
  }, 60_000);
});

describe('dev outbox off (e2e)', () => {
  it('is 404 in production', async () => {
    const t = await createTestApp({ env: { NODE_ENV: 'production' } });
    try {
      await signUp(t);
      for (const path of ['/dev/mail', '/dev/mail.json']) {
        const res = await t.http.get(path).set('Accept', 'application/json');
        expect({ path, status: res.status, code: res.body.code }).toEqual({
          path,
          status: 404,
          code: 'route.not_found',
        });
      }
    } finally {
      await t.close();
    }
  });

  it('is 404 when SMTP_URL is set (mails really go out)', async () => {
    let smtp: SmtpCapture | undefined;
    let t: TestApp | undefined;
    try {
      smtp = await startSmtpCapture();
      t = await createTestApp({ env: { SMTP_URL: smtp.url } });
      const user = await signUp(t);
      await smtp.waitForMail(user.email);
      expect((await t.http.get('/dev/mail')).status).toBe(404);
      expect((await t.http.get('/dev/mail.json')).status).toBe(404);
    } finally {
      await t?.close();
      await smtp?.close();
    }
  });
});
