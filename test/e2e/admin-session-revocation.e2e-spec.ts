import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import { TOTP } from 'otpauth';
import supertest from 'supertest';
import { users } from '../../src/database/schema.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, signUpVerified, type SignedUp } from '../support/auth.js';
import { startSmtpCapture, type SmtpCapture } from '../support/smtp.js';

const ADMIN = { email: 'admin@test.com', password: 'admin123' };

type Agent = ReturnType<typeof supertest.agent>;

/**
 * API.md v1.2: changing or resetting the password, "sign out everywhere", enabling MFA and an
 * admin's "revoke sessions" also end that user's back-office (/admin) sessions.
 */
describe('back-office sessions end with the account-recovery triggers', () => {
  let smtp: SmtpCapture;
  let t: TestApp;

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    t = await createTestApp({ env: { SMTP_URL: smtp.url } });
  });

  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  async function adminSignIn(email: string, password: string): Promise<Agent> {
    const agent = supertest.agent(t.app.getHttpServer());
    const res = await agent.post('/admin/login').type('form').send({ email, password });
    expect({ status: res.status, location: res.headers.location }).toEqual({
      status: 302,
      location: '/admin',
    });
    await agent.get('/admin/api/resources/users/actions/list').expect(200);
    return agent;
  }

  /** A verified user made back-office admin, signed in to the API and to /admin. */
  async function staffSignedIn(): Promise<{ staff: SignedUp; panel: Agent }> {
    const staff = await signUpVerified(t);
    await t.db.update(users).set({ role: 'admin' }).where(eq(users.id, staff.user.id));
    return { staff, panel: await adminSignIn(staff.email, staff.password) };
  }

  async function expectSentToLogin(panel: Agent): Promise<void> {
    const res = await panel.get('/admin/api/resources/users/actions/list');
    expect({ status: res.status, location: res.headers.location }).toEqual({
      status: 302,
      location: '/admin/login',
    });
  }

  it('a password change ends the /admin session', async () => {
    const { staff, panel } = await staffSignedIn();
    await t.http
      .put('/api/v1/users/me/password')
      .set('Authorization', bearer(staff.accessToken))
      .send({ currentPassword: staff.password, newPassword: 'a brand new password' })
      .expect(204);
    await expectSentToLogin(panel);
  });

  it('a password reset ends the /admin session', async () => {
    const { staff, panel } = await staffSignedIn();
    await t.http.post('/api/v1/auth/password-reset').send({ email: staff.email }).expect(202);
    const mail = await smtp.waitForMail(staff.email, { subject: 'Reset your password' });
    const token = /\/reset-password\?token=([\w-]+)/.exec(mail.text)![1]!;
    await t.http
      .post('/api/v1/auth/password-reset/confirm')
      .send({ token, newPassword: 'a reset password 1' })
      .expect(204);
    await expectSentToLogin(panel);
  });

  it('"sign out everywhere" ends the /admin session (the calling API session stays)', async () => {
    const { staff, panel } = await staffSignedIn();
    await t.http
      .delete('/api/v1/users/me/sessions')
      .set('Authorization', bearer(staff.accessToken))
      .expect(204);
    await expectSentToLogin(panel);
    await t.http
      .get('/api/v1/users/me')
      .set('Authorization', bearer(staff.accessToken))
      .expect(200);
  });

  it('enabling two-factor sign-in ends the /admin session', async () => {
    const { staff, panel } = await staffSignedIn();
    const started = await t.http
      .post('/api/v1/users/me/mfa/totp')
      .set('Authorization', bearer(staff.accessToken))
      .send({ password: staff.password })
      .expect(200);
    const secret = (started.body as { secret: string }).secret;
    await t.http
      .post('/api/v1/users/me/mfa/totp/confirm')
      .set('Authorization', bearer(staff.accessToken))
      .send({ code: new TOTP({ secret }).generate() })
      .expect(200);
    await expectSentToLogin(panel);
  });

  it("an admin's \"revoke all sessions\" ends the user's /admin session, not the admin's own", async () => {
    const { staff, panel } = await staffSignedIn();
    const admin = await adminSignIn(ADMIN.email, ADMIN.password);
    const res = await admin
      .post(`/admin/api/resources/users/records/${staff.user.id}/revokeSessions`)
      .expect(200);
    expect((res.body as { notice: { type: string } }).notice.type).toBe('success');
    await expectSentToLogin(panel);
    await admin.get('/admin/api/resources/users/actions/list').expect(200);
  });

  it('a new /admin sign-in after the trigger works', async () => {
    const { staff, panel } = await staffSignedIn();
    await t.http
      .delete('/api/v1/users/me/sessions')
      .set('Authorization', bearer(staff.accessToken))
      .expect(204);
    await expectSentToLogin(panel);
    await adminSignIn(staff.email, staff.password);
  });
});
