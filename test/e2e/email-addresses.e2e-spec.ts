import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq, like } from 'drizzle-orm';
import supertest from 'supertest';
import { users } from '../../src/database/schema.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, DEFAULT_PASSWORD, signUp, signUpVerified } from '../support/auth.js';

/** ASCII text in fullwidth forms (U+FF01..U+FF5E), as an IME types it. */
function fullwidth(text: string): string {
  return text.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
}

/** Addresses that display like a plain one but carry a format (Cf) or control (Cc) character. */
const LOOKALIKES = [
  ['a zero-width space', (email: string) => `${email}\u200b`],
  ['a zero-width joiner', (email: string) => email.replace('@', '\u200d@')],
  ['a soft hyphen', (email: string) => `\u00ad${email}`],
  ['a byte order mark', (email: string) => `\ufeff${email}`],
  ['a right-to-left override', (email: string) => email.replace('@', '@\u202e')],
  ['an escape character', (email: string) => email.replace('@', '\u001b@')],
] as const;

function expectEmailRefused(res: supertest.Response): void {
  expect(res.status).toBe(400);
  expect(res.body).toMatchObject({ statusCode: 400, code: 'request.invalid' });
  expect((res.body as { details: { field: string }[] }).details.map((d) => d.field)).toContain(
    'email',
  );
}

describe('email addresses: one normal form, no invisible characters (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      env: { RATE_LIMIT_PER_IP: '100000', RATE_LIMIT_PER_EMAIL: '100000' },
    });
  });

  afterAll(async () => {
    await t.close();
  });

  it('refuses sign-up as test@test.com followed by U+200B (400), creating nothing', async () => {
    const res = await t.http
      .post('/api/v1/auth/sign-up')
      .send({ email: 'test@test.com\u200b', password: DEFAULT_PASSWORD });
    expectEmailRefused(res);
    expect(await t.db.select().from(users).where(like(users.email, 'test@test.com_%'))).toEqual([]);
  });

  it.each(LOOKALIKES)('refuses sign-up with %s in the address (400)', async (_name, spoil) => {
    const email = uniqueEmail('lookalike');
    const res = await t.http
      .post('/api/v1/auth/sign-up')
      .send({ email: spoil(email), password: DEFAULT_PASSWORD });
    expectEmailRefused(res);
    expect(await t.db.select().from(users).where(eq(users.email, email))).toEqual([]);
  });

  it('signs the fullwidth form of an address in to the ASCII account', async () => {
    const ascii = await signUp(t);
    const res = await t.http
      .post('/api/v1/auth/sign-in')
      .send({ email: fullwidth(ascii.email), password: ascii.password })
      .expect(200);
    expect(res.body.user).toMatchObject({ id: ascii.user.id, email: ascii.email });
  });

  it('takes the fullwidth form of a registered address as that address (409 on sign-up)', async () => {
    const ascii = await signUp(t);
    const res = await t.http
      .post('/api/v1/auth/sign-up')
      .send({ email: fullwidth(ascii.email.toUpperCase()), password: DEFAULT_PASSWORD })
      .expect(409);
    expect(res.body.code).toBe('user.email_taken');
  });

  it('stores a fullwidth sign-up in ASCII', async () => {
    const email = uniqueEmail('wide');
    const res = await t.http
      .post('/api/v1/auth/sign-up')
      .send({ email: fullwidth(email), password: DEFAULT_PASSWORD })
      .expect(201);
    expect(res.body.user.email).toBe(email);
  });

  it('refuses such addresses in sign-in and password reset requests (400)', async () => {
    const ascii = await signUp(t);
    const signIn = await t.http
      .post('/api/v1/auth/sign-in')
      .send({ email: `${ascii.email}\u200b`, password: ascii.password });
    expectEmailRefused(signIn);
    expectEmailRefused(
      await t.http.post('/api/v1/auth/password-reset').send({ email: `${ascii.email}\u200b` }),
    );
    await t.http
      .post('/api/v1/auth/password-reset')
      .send({ email: fullwidth(ascii.email) })
      .expect(202);
  });

  it('refuses such an address as a new email of my account (400), and takes the fullwidth form as ASCII', async () => {
    const me = await signUpVerified(t);
    const email = uniqueEmail('changed');
    const refused = await t.http
      .patch('/api/v1/users/me')
      .set('Authorization', bearer(me.accessToken))
      .send({ email: `${email}\u200b` });
    expectEmailRefused(refused);
    const res = await t.http
      .patch('/api/v1/users/me')
      .set('Authorization', bearer(me.accessToken))
      .send({ email: fullwidth(email) })
      .expect(200);
    expect(res.body.pendingEmail).toBe(email);
  });

  it('refuses such an address in an invitation (400)', async () => {
    const owner = await signUpVerified(t);
    const res = await t.http
      .post(`/api/v1/teams/${owner.team.id}/invitations`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ email: `${uniqueEmail('invitee')}\u200b`, role: 'member' });
    expectEmailRefused(res);
  });

  it("refuses such an address in the back office's user edit", async () => {
    const agent = supertest.agent(t.app.getHttpServer());
    await agent
      .post('/admin/login')
      .type('form')
      .send({ email: 'admin@test.com', password: 'admin123' })
      .expect(302);
    const user = await signUp(t);
    const res = await agent
      .post(`/admin/api/resources/users/records/${user.user.id}/edit`)
      .type('form')
      .send({ email: `${uniqueEmail('edited')}\u200b` })
      .expect(200);
    expect(res.body.notice.type).toBe('error');
    expect(res.body.notice.message).toContain('admin.invalid_input');
    const [row] = await t.db.select().from(users).where(eq(users.id, user.user.id));
    expect(row!.email).toBe(user.email);
  });
});
