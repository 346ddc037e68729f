import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq } from 'drizzle-orm';
import { createHash } from 'node:crypto';
import { activityLogs, passwordResetTokens, sessions } from '../../src/database/schema.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import {
  bearer,
  signIn,
  signUp,
  signUpVerified,
  verificationTokenFrom,
  type SignedUp,
} from '../support/auth.js';
import { startSmtpCapture, type CapturedMail, type SmtpCapture } from '../support/smtp.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('password reset (mail over a real local SMTP server)', () => {
  let smtp: SmtpCapture;
  let t: TestApp;

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    t = await createTestApp({
      env: {
        SMTP_URL: smtp.url,
        MAIL_FROM: 'nest-saas <no-reply@nest-saas.test>',
        TRUST_PROXY: 'true',
      },
    });
  });

  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const request = (email: string) =>
    t.http.post('/api/v1/auth/password-reset').send({ email }).expect(202);

  function tokenFrom(mail: CapturedMail): string {
    const match = /http:\/\/app\.test\/reset-password\?token=([\w-]+)/.exec(mail.text);
    expect(match).not.toBeNull();
    return match![1]!;
  }

  async function requestAndReceive(u: SignedUp): Promise<string> {
    await request(u.email);
    const mail = await smtp.waitForMail(u.email, { subject: 'Reset your password' });
    smtp.messages.splice(smtp.messages.indexOf(mail), 1);
    return tokenFrom(mail);
  }

  it('emails a single-use link that resets the password and ends every session', async () => {
    const u = await signUp(t);
    const second = await signIn(t, u.email, u.password);
    const res = await request(` ${u.email.toUpperCase()} `);
    expect(res.body).toEqual({});

    const mail = await smtp.waitForMail(u.email, { subject: 'Reset your password' });
    expect(mail.from).toBe('no-reply@nest-saas.test');
    expect(mail.subject).toBe('Reset your password');
    expect(mail.html).toContain('http://app.test/reset-password?token=');
    const token = tokenFrom(mail);
    smtp.messages.splice(smtp.messages.indexOf(mail), 1);
    const [row] = await t.db
      .select()
      .from(passwordResetTokens)
      .where(eq(passwordResetTokens.userId, u.user.id));
    expect(row).toMatchObject({ tokenHash: sha256(token), usedAt: null });
    const ttl = row!.expiresAt.getTime() - row!.createdAt.getTime();
    expect(Math.abs(ttl - 3_600_000)).toBeLessThan(5_000);

    await t.http
      .post('/api/v1/auth/password-reset/confirm')
      .set('X-Forwarded-For', '203.0.113.50')
      .send({ token, newPassword: 'reset password 123' })
      .expect(204);

    for (const access of [u.accessToken, second.accessToken]) {
      await t.http.get('/api/v1/users/me').set('Authorization', bearer(access)).expect(401);
    }
    const live = await t.db.select().from(sessions).where(eq(sessions.userId, u.user.id));
    expect(live.map((s) => s.revokedReason)).toEqual(['password_reset', 'password_reset']);
    await t.http
      .post('/api/v1/auth/sign-in')
      .send({ email: u.email, password: u.password })
      .expect(401);
    await signIn(t, u.email, 'reset password 123');
    const logs = await t.db
      .select()
      .from(activityLogs)
      .where(and(eq(activityLogs.userId, u.user.id), eq(activityLogs.action, 'UPDATE_PASSWORD')));
    expect(logs.map((l) => [l.teamId, l.ipAddress])).toEqual([[u.team.id, '203.0.113.50']]);

    // Single use.
    const reuse = await t.http
      .post('/api/v1/auth/password-reset/confirm')
      .send({ token, newPassword: 'another password 456' })
      .expect(400);
    expect(reuse.body).toMatchObject({ statusCode: 400, code: 'auth.invalid_reset_token' });
  });

  it('202 and no mail and no token for an unknown address', async () => {
    const email = uniqueEmail('ghost');
    const before = (await t.db.select().from(passwordResetTokens)).length;
    const res = await request(email);
    expect(res.body).toEqual({});
    await expect(smtp.waitForMail(email, 300)).rejects.toThrow(/No mail/);
    expect(await t.db.select().from(passwordResetTokens)).toHaveLength(before);
  });

  it('an expired link is refused', async () => {
    const u = await signUp(t);
    const token = await requestAndReceive(u);
    await t.db
      .update(passwordResetTokens)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(passwordResetTokens.tokenHash, sha256(token)));
    await t.http
      .post('/api/v1/auth/password-reset/confirm')
      .send({ token, newPassword: 'reset password 123' })
      .expect(400);
    await signIn(t, u.email, u.password);
  });

  it('a link is useless once the password changed another way', async () => {
    const u = await signUp(t);
    const token = await requestAndReceive(u);
    await t.http
      .put('/api/v1/users/me/password')
      .set('Authorization', bearer(u.accessToken))
      .send({ currentPassword: u.password, newPassword: 'changed meanwhile' })
      .expect(204);
    await t.http
      .post('/api/v1/auth/password-reset/confirm')
      .send({ token, newPassword: 'reset password 123' })
      .expect(400);
    await signIn(t, u.email, 'changed meanwhile');
  });

  it('a link mailed to the old address stops working once a new address is confirmed', async () => {
    const u = await signUpVerified(t);
    const token = await requestAndReceive(u);
    const newEmail = uniqueEmail('moved');
    await t.http
      .patch('/api/v1/users/me')
      .set('Authorization', bearer(u.accessToken))
      .send({ email: newEmail })
      .expect(200);
    const link = await smtp.waitForMail(newEmail, { subject: 'Confirm your new email address' });
    await t.http
      .post('/api/v1/auth/verify-email')
      .send({ token: verificationTokenFrom(link) })
      .expect(204);

    const res = await t.http
      .post('/api/v1/auth/password-reset/confirm')
      .send({ token, newPassword: 'reset password 123' })
      .expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, code: 'auth.invalid_reset_token' });
    await signIn(t, newEmail, u.password);
  });

  it.each([
    [
      'an unknown token',
      { token: 'x'.repeat(43), newPassword: 'reset password 123' },
      'auth.invalid_reset_token',
    ],
    ['a short password', { token: 'x'.repeat(43), newPassword: 'short' }, 'request.invalid'],
    [
      'a 129-character password',
      { token: 'x'.repeat(43), newPassword: 'x'.repeat(129) },
      'request.invalid',
    ],
    [
      'an unknown field',
      { token: 'x', newPassword: 'reset password 123', userId: 1 },
      'request.invalid',
    ],
  ])('confirm: 400 for %s', async (_name, body, code) => {
    const res = await t.http.post('/api/v1/auth/password-reset/confirm').send(body).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, code });
  });

  it('request: 400 for an invalid email or unknown fields', async () => {
    await t.http.post('/api/v1/auth/password-reset').send({ email: 'nope' }).expect(400);
    await t.http
      .post('/api/v1/auth/password-reset')
      .send({ email: uniqueEmail(), role: 'admin' })
      .expect(400);
  });
});
