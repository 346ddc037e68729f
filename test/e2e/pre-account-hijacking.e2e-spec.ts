import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq, gt } from 'drizzle-orm';
import { TOTP } from 'otpauth';
import {
  apiKeys,
  invitations,
  mfaRecoveryCodes,
  oidcIdentities,
  teamMembers,
  userTotp,
  users,
  webhookEndpoints,
  webhookEvents,
} from '../../src/database/schema.js';
import { activityRows } from '../support/activity.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import {
  bearer,
  markEmailVerified,
  signIn,
  signUp,
  signUpVerified,
  verificationTokenFrom,
  type SignedUp,
} from '../support/auth.js';
import { startSmtpCapture, type SmtpCapture } from '../support/smtp.js';
import {
  startWebhookReceiver,
  waitFor,
  type WebhookReceiver,
} from '../support/webhook-receiver.js';

const NEW_PASSWORD = 'the owner took it back 1';
const RESET_IP = '203.0.113.77';

/**
 * Pre-account hijacking (issue 28, item 4): someone signs up with another person's address,
 * stays unverified and sets up lasting access (an API key, a webhook endpoint, TOTP, a provider
 * link) that would survive the real owner's password reset. API.md v1.2, "Security rules added
 * in v1.2", with the default EMAIL_VERIFICATION=optional.
 */
describe('pre-account hijacking (EMAIL_VERIFICATION=optional)', () => {
  let smtp: SmtpCapture;
  let receiver: WebhookReceiver;
  let t: TestApp;

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    receiver = await startWebhookReceiver();
    t = await createTestApp({
      env: {
        SMTP_URL: smtp.url,
        MAIL_FROM: 'nest-saas <no-reply@nest-saas.test>',
        TRUST_PROXY: 'true',
        WEBHOOKS_ALLOW_PRIVATE: 'true',
      },
    });
  });

  afterAll(async () => {
    await t.close();
    await receiver.close();
    await smtp.close();
  });

  const auth = (u: { accessToken: string }) => ({ Authorization: bearer(u.accessToken) });
  const codeOf = (secret: string) => new TOTP({ secret }).generate();

  async function createKey(u: SignedUp, teamId = u.team.id) {
    const res = await t.http
      .post(`/api/v1/teams/${teamId}/api-keys`)
      .set(auth(u))
      .send({ name: 'bot', scopes: ['team:read'] });
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 201 });
    return res.body as { id: number; key: string };
  }

  async function createWebhook(u: SignedUp, path: string, events = ['team.updated']) {
    const res = await t.http
      .post(`/api/v1/teams/${u.team.id}/webhooks`)
      .set(auth(u))
      .send({ url: receiver.url(path), events });
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 201 });
    return res.body as { id: number };
  }

  async function enableTotp(u: SignedUp): Promise<string> {
    const started = await t.http
      .post('/api/v1/users/me/mfa/totp')
      .set(auth(u))
      .send({ password: u.password })
      .expect(200);
    const secret = (started.body as { secret: string }).secret;
    await t.http
      .post('/api/v1/users/me/mfa/totp/confirm')
      .set(auth(u))
      .send({ code: codeOf(secret) })
      .expect(200);
    return secret;
  }

  /** A provider identity linked to the user, as the OIDC callback stores one. */
  async function linkIdentity(userId: number): Promise<number> {
    const [row] = await t.db
      .insert(oidcIdentities)
      .values({
        userId,
        provider: 'test',
        issuer: 'https://op.example.test',
        subject: `sub-${userId}-${Date.now()}`,
        email: null,
      })
      .returning();
    return row!.id;
  }

  /** Requests a reset for `email` and confirms it with the token of the mailed link. */
  async function resetThroughMail(email: string): Promise<void> {
    await t.http.post('/api/v1/auth/password-reset').send({ email }).expect(202);
    const mail = await smtp.waitForMail(email, { subject: 'Reset your password' });
    smtp.messages.splice(smtp.messages.indexOf(mail), 1);
    const token = /\/reset-password\?token=([\w-]+)/.exec(mail.text)![1]!;
    await t.http
      .post('/api/v1/auth/password-reset/confirm')
      .set('X-Forwarded-For', RESET_IP)
      .send({ token, newPassword: NEW_PASSWORD })
      .expect(204);
  }

  async function renameTeam(u: SignedUp, name: string): Promise<void> {
    await t.http.patch(`/api/v1/teams/${u.team.id}`).set(auth(u)).send({ name }).expect(200);
  }

  describe('an unverified account', () => {
    it('may sign in and use its own team', async () => {
      const u = await signUp(t);
      const again = await signIn(t, u.email, u.password);
      await t.http.patch(`/api/v1/teams/${u.team.id}`).set(auth(again)).send({ name: 'Mine' });
      const team = await t.http.get(`/api/v1/teams/${u.team.id}`).set(auth(again)).expect(200);
      expect(team.body).toMatchObject({ name: 'Mine' });
    });

    const operations = [
      {
        name: 'send an invitation',
        send: (u: SignedUp) =>
          t.http
            .post(`/api/v1/teams/${u.team.id}/invitations`)
            .set(auth(u))
            .send({ email: uniqueEmail('invitee'), role: 'member' }),
        success: 201,
        written: async (u: SignedUp) =>
          (await t.db.select().from(invitations).where(eq(invitations.teamId, u.team.id))).length,
      },
      {
        name: 'create an API key',
        send: (u: SignedUp) =>
          t.http
            .post(`/api/v1/teams/${u.team.id}/api-keys`)
            .set(auth(u))
            .send({ name: 'bot', scopes: ['team:read'] }),
        success: 201,
        written: async (u: SignedUp) =>
          (await t.db.select().from(apiKeys).where(eq(apiKeys.teamId, u.team.id))).length,
      },
      {
        name: 'create a webhook endpoint',
        send: (u: SignedUp) =>
          t.http
            .post(`/api/v1/teams/${u.team.id}/webhooks`)
            .set(auth(u))
            .send({ url: receiver.url('/unverified'), events: ['team.updated'] }),
        success: 201,
        written: async (u: SignedUp) =>
          (await t.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.teamId, u.team.id)))
            .length,
      },
      {
        name: 'start enabling TOTP',
        send: (u: SignedUp) =>
          t.http.post('/api/v1/users/me/mfa/totp').set(auth(u)).send({ password: u.password }),
        success: 200,
        written: async (u: SignedUp) =>
          (await t.db.select().from(userTotp).where(eq(userTotp.userId, u.user.id))).length,
      },
    ];

    it.each(operations)(
      'may not $name (403 email.unverified, nothing written); once verified it may',
      async ({ send, success, written }) => {
        const u = await signUp(t);
        const refused = await send(u);
        expect({ status: refused.status, code: refused.body.code }).toEqual({
          status: 403,
          code: 'email.unverified',
        });
        expect(await written(u)).toBe(0);

        await markEmailVerified(t, u.user.id);
        const allowed = await send(u);
        expect({ status: allowed.status, body: allowed.body }).toMatchObject({ status: success });
        expect(await written(u)).toBe(1);
      },
    );

    it('may not confirm a TOTP enrolment either (403 email.unverified, MFA stays off)', async () => {
      const u = await signUpVerified(t);
      const started = await t.http
        .post('/api/v1/users/me/mfa/totp')
        .set(auth(u))
        .send({ password: u.password })
        .expect(200);
      // Unverified again (an admin changed the address): the enrolment must not go live.
      await t.db.update(users).set({ emailVerifiedAt: null }).where(eq(users.id, u.user.id));
      const res = await t.http
        .post('/api/v1/users/me/mfa/totp/confirm')
        .set(auth(u))
        .send({ code: codeOf((started.body as { secret: string }).secret) });
      expect({ status: res.status, code: res.body.code }).toEqual({
        status: 403,
        code: 'email.unverified',
      });
      const [row] = await t.db.select().from(users).where(eq(users.id, u.user.id));
      expect(row!.mfaEnabledAt).toBeNull();
    });
  });

  describe('a password reset (it proves the mailbox)', () => {
    it('removes the keys, webhook endpoints, TOTP and provider links of an account still unverified, logs each removal, and verifies the address', async () => {
      const hijacker = await signUpVerified(t);
      const teamId = hijacker.team.id;
      // A verified co-owner's key and endpoint in the same team: not the unverified account's.
      const coOwner = await signUpVerified(t);
      await t.db.insert(teamMembers).values({ teamId, userId: coOwner.user.id, role: 'owner' });
      const coOwnerKey = await createKey(coOwner, teamId);
      const coOwnerHook = await createWebhook(
        { ...coOwner, team: { ...coOwner.team, id: teamId } },
        '/co-owner',
        ['member.removed'],
      );
      // Set up through the API, then unverified again: the state an account from before this
      // rule is in (it could set all of this up without ever verifying its address).
      const key = await createKey(hijacker);
      const hook = await createWebhook(hijacker, '/planted');
      await enableTotp(hijacker);
      const identityId = await linkIdentity(hijacker.user.id);
      await t.db.update(users).set({ emailVerifiedAt: null }).where(eq(users.id, hijacker.user.id));

      // The planted endpoint hears the team's events and the password needs the planted TOTP.
      await renameTeam(hijacker, 'Leaky');
      await waitFor(() => receiver.on('/planted').length > 0, 'the planted endpoint to be called');
      const first = await t.http
        .post('/api/v1/auth/sign-in')
        .send({ email: hijacker.email, password: hijacker.password })
        .expect(200);
      expect(first.body).toMatchObject({ mfaRequired: true });

      // The real owner of the mailbox resets the password.
      await resetThroughMail(hijacker.email);

      const [keyRow] = await t.db.select().from(apiKeys).where(eq(apiKeys.id, key.id));
      expect(keyRow!.revokedAt).toBeInstanceOf(Date);
      await t.http.get(`/api/v1/teams/${teamId}`).set('Authorization', bearer(key.key)).expect(401);
      expect(
        await t.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, hook.id)),
      ).toEqual([]);
      expect(
        await t.db.select().from(userTotp).where(eq(userTotp.userId, hijacker.user.id)),
      ).toEqual([]);
      expect(
        await t.db
          .select()
          .from(mfaRecoveryCodes)
          .where(eq(mfaRecoveryCodes.userId, hijacker.user.id)),
      ).toEqual([]);
      expect(
        await t.db.select().from(oidcIdentities).where(eq(oidcIdentities.id, identityId)),
      ).toEqual([]);

      // The verified co-owner's key and endpoint stay.
      const [coKeyRow] = await t.db.select().from(apiKeys).where(eq(apiKeys.id, coOwnerKey.id));
      expect(coKeyRow!.revokedAt).toBeNull();
      expect(
        await t.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, coOwnerHook.id)),
      ).toHaveLength(1);

      // Each removal is logged in the user's name, from the reset's address.
      const logged = async (action: string) =>
        (await activityRows(t.db, { userId: hijacker.user.id, action })).map((r) => ({
          teamId: r.teamId,
          ip: r.ipAddress,
        }));
      const expected = [{ teamId, ip: RESET_IP }];
      expect(await logged('REVOKE_API_KEY')).toEqual(expected);
      expect(await logged('DELETE_WEBHOOK')).toEqual(expected);
      expect(await logged('DISABLE_MFA')).toEqual(expected);
      expect(await logged('UNLINK_OIDC_IDENTITY')).toEqual(expected);
      expect(await logged('VERIFY_EMAIL')).toEqual(expected);

      // The owner signs in with the new password alone, with a verified address.
      const owner = await signIn(t, hijacker.email, NEW_PASSWORD);
      expect(owner.accessToken).toEqual(expect.any(String));
      const me = await t.http.get('/api/v1/users/me').set(auth(owner)).expect(200);
      expect(me.body).toMatchObject({ emailVerified: true, mfaEnabled: false });

      // The team's events no longer go anywhere the hijacker chose.
      const before = new Date();
      await renameTeam({ ...hijacker, accessToken: owner.accessToken }, 'Ours');
      expect(
        await t.db
          .select()
          .from(webhookEvents)
          .where(and(eq(webhookEvents.teamId, teamId), gt(webhookEvents.createdAt, before))),
      ).toEqual([]);
    });

    it('for a verified account removes only what was set up before the address was verified', async () => {
      const u = await signUpVerified(t);
      const early = await createKey(u);
      const earlyHook = await createWebhook(u, '/early');
      await enableTotp(u);
      const earlyIdentity = await linkIdentity(u.user.id);
      // Verified only now (its verification link used after all of the above). Timestamps
      // have millisecond precision: a few ms apart, so "before" and "after" are never a tie.
      const apart = () => new Promise((resolve) => setTimeout(resolve, 5));
      await apart();
      await t.db.update(users).set({ emailVerifiedAt: new Date() }).where(eq(users.id, u.user.id));
      await apart();
      const late = await createKey(u);
      const lateHook = await createWebhook(u, '/late');

      await resetThroughMail(u.email);

      const revoked = async (id: number) =>
        (await t.db.select().from(apiKeys).where(eq(apiKeys.id, id)))[0]!.revokedAt !== null;
      const exists = async (id: number) =>
        (await t.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id))).length > 0;
      expect(await revoked(early.id)).toBe(true);
      expect(await exists(earlyHook.id)).toBe(false);
      expect(
        await t.db.select().from(oidcIdentities).where(eq(oidcIdentities.id, earlyIdentity)),
      ).toEqual([]);
      const [row] = await t.db.select().from(users).where(eq(users.id, u.user.id));
      expect(row!.mfaEnabledAt).toBeNull();

      expect(await revoked(late.id)).toBe(false);
      expect(await exists(lateHook.id)).toBe(true);
      await t.http
        .get(`/api/v1/teams/${u.team.id}`)
        .set('Authorization', bearer(late.key))
        .expect(200);
      expect(await activityRows(t.db, { userId: u.user.id, action: 'VERIFY_EMAIL' })).toEqual([]);
    });

    it('keeps what a verified account set up before it changed its address', async () => {
      const u = await signUpVerified(t);
      const key = await createKey(u);
      const hook = await createWebhook(u, '/kept');
      const newEmail = uniqueEmail('moved');
      await t.http.patch('/api/v1/users/me').set(auth(u)).send({ email: newEmail }).expect(200);
      const link = await smtp.waitForMail(newEmail, { subject: 'Confirm your new email address' });
      await t.http
        .post('/api/v1/auth/verify-email')
        .send({ token: verificationTokenFrom(link) })
        .expect(204);

      await resetThroughMail(newEmail);

      await t.http
        .get(`/api/v1/teams/${u.team.id}`)
        .set('Authorization', bearer(key.key))
        .expect(200);
      expect(
        await t.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, hook.id)),
      ).toHaveLength(1);
    });
  });
});
