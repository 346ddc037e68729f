import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq } from 'drizzle-orm';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  emailVerificationTokens,
  invitations,
  teamMembers,
  users,
} from '../../src/database/schema.js';
import { activityRows } from '../support/activity.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import {
  bearer,
  DEFAULT_PASSWORD,
  signIn,
  signUp,
  signUpVerified,
  verificationTokenFrom,
  type SignedUp,
} from '../support/auth.js';
import { startSmtpCapture, type CapturedMail, type SmtpCapture } from '../support/smtp.js';

const VERIFY_SUBJECT = 'Verify your email address';
const CHANGE_SUBJECT = 'Confirm your new email address';
const NOTICE_SUBJECT = 'Your email address is being changed';
const INVITE_SUBJECT = 'invited you';

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

describe('email verification (e2e)', () => {
  let smtp: SmtpCapture;
  let t: TestApp;

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    t = await createTestApp({ env: { SMTP_URL: smtp.url, APP_URL: 'https://app.example.test' } });
  });

  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  /** Every mail to `to` whose subject contains `subject`, oldest first, once `count` arrived. */
  async function mailsTo(to: string, subject: string, count = 1): Promise<CapturedMail[]> {
    const matching = () =>
      smtp.messages.filter((m) => m.to.includes(to.toLowerCase()) && m.subject.includes(subject));
    for (let waited = 0; matching().length < count && waited < 5000; waited += 25) {
      await sleep(25);
    }
    expect(matching().length).toBeGreaterThanOrEqual(count);
    return matching();
  }

  async function latestToken(to: string, subject: string, count = 1): Promise<string> {
    return verificationTokenFrom((await mailsTo(to, subject, count)).at(-1)!);
  }

  const verify = (app: TestApp, token: string) =>
    app.http.post('/api/v1/auth/verify-email').send({ token });

  const me = (app: TestApp, u: { accessToken: string }) =>
    app.http.get('/api/v1/users/me').set('Authorization', bearer(u.accessToken));

  async function invite(owner: SignedUp, email: string, role: 'owner' | 'member' = 'member') {
    const res = await t.http
      .post(`/api/v1/teams/${owner.team.id}/invitations`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ email, role });
    expect(res.status).toBe(201);
    return res.body.id as number;
  }

  async function inviteToken(email: string): Promise<string> {
    const mail = await smtp.waitForMail(email, { subject: INVITE_SUBJECT });
    const match = /\/invitations\/accept\?token=([^\s"<]+)/.exec(mail.text);
    return decodeURIComponent(match![1]!);
  }

  const membershipsIn = (teamId: number, userId: number) =>
    t.db
      .select()
      .from(teamMembers)
      .where(and(eq(teamMembers.teamId, teamId), eq(teamMembers.userId, userId)));

  async function invitationStatus(id: number): Promise<string> {
    const [row] = await t.db.select().from(invitations).where(eq(invitations.id, id));
    return row!.status;
  }

  const tokenRows = (userId: number) =>
    t.db.select().from(emailVerificationTokens).where(eq(emailVerificationTokens.userId, userId));

  describe('the attack: taking an invitation with an unproven address', () => {
    it('signing up with an invited address does not make its invitations mine until verified', async () => {
      const owner = await signUpVerified(t);
      const victim = uniqueEmail('victim');
      const id = await invite(owner, victim, 'owner');

      // Anyone can sign up with the invited address (it is not theirs, but nothing proves it).
      const attacker = await signUp(t, { email: victim });
      expect(attacker.user.emailVerified).toBe(false);
      const auth = bearer(attacker.accessToken);
      const listed = await t.http.get('/api/v1/invitations').set('Authorization', auth);
      expect([listed.status, listed.body]).toEqual([200, { items: [], nextCursor: null }]);
      for (const action of ['accept', 'decline']) {
        const r = await t.http
          .post(`/api/v1/invitations/${id}/${action}`)
          .set('Authorization', auth);
        expect([r.status, r.body.code]).toEqual([403, 'email.unverified']);
      }
      expect(await membershipsIn(owner.team.id, attacker.user.id)).toEqual([]);
      expect(await invitationStatus(id)).toBe('pending');
      expect(
        await activityRows(t.db, { action: 'ACCEPT_INVITATION', teamId: owner.team.id }),
      ).toEqual([]);

      // Whoever reads the mailbox can verify it; then the invitation is theirs to answer.
      const token = await latestToken(victim, VERIFY_SUBJECT);
      expect((await verify(t, token)).status).toBe(204);
      const after = await t.http.get('/api/v1/invitations').set('Authorization', auth);
      expect((after.body.items as { id: number }[]).map((i) => i.id)).toEqual([id]);
      const accepted = await t.http
        .post(`/api/v1/invitations/${id}/accept`)
        .set('Authorization', auth);
      expect([accepted.status, accepted.body.role]).toEqual([200, 'owner']);
    });

    it('changing my email to an invited address matches nothing until the new address is confirmed', async () => {
      const owner = await signUpVerified(t);
      const target = uniqueEmail('target');
      const id = await invite(owner, target);
      const u = await signUpVerified(t);
      const auth = bearer(u.accessToken);

      const patched = await t.http
        .patch('/api/v1/users/me')
        .set('Authorization', auth)
        .send({ email: target.toUpperCase() });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({
        email: u.email,
        pendingEmail: target,
        emailVerified: true,
      });
      expect((await me(t, u)).body).toMatchObject({
        email: u.email,
        pendingEmail: target,
        emailVerified: true,
      });

      // The pending address is not mine: nothing listed, and the invitation id is someone else's.
      const listed = await t.http.get('/api/v1/invitations').set('Authorization', auth);
      expect(listed.body.items).toEqual([]);
      const byId = await t.http.post(`/api/v1/invitations/${id}/accept`).set('Authorization', auth);
      expect([byId.status, byId.body.code]).toEqual([404, 'invitation.not_found']);
      // The current address still signs in; the pending one does not.
      await signIn(t, u.email, u.password);
      await t.http
        .post('/api/v1/auth/sign-in')
        .send({ email: target, password: u.password })
        .expect(401);

      // A link to the new address, a notice to the old one.
      const notice = (await mailsTo(u.email, NOTICE_SUBJECT))[0]!;
      expect(notice.text).toContain(target);
      const token = await latestToken(target, CHANGE_SUBJECT);
      const [mail] = await mailsTo(target, CHANGE_SUBJECT);
      expect(mail!.html).toContain('https://app.example.test/verify-email?token=');

      expect((await verify(t, token)).status).toBe(204);
      expect((await me(t, u)).body).toMatchObject({
        email: target,
        pendingEmail: null,
        emailVerified: true,
      });
      expect(
        (await activityRows(t.db, { userId: u.user.id, action: 'VERIFY_EMAIL' })).map((l) => [
          l.teamId,
          l.ipAddress,
        ]),
      ).toEqual([[u.team.id, '127.0.0.1']]);
      await signIn(t, target, u.password);
      await t.http
        .post('/api/v1/auth/sign-in')
        .send({ email: u.email, password: u.password })
        .expect(401);

      const nowListed = await t.http.get('/api/v1/invitations').set('Authorization', auth);
      expect((nowListed.body.items as { id: number }[]).map((i) => i.id)).toEqual([id]);
      await t.http.post(`/api/v1/invitations/${id}/accept`).set('Authorization', auth).expect(200);
    });

    it('a newer email change retires the links of the older one', async () => {
      const u = await signUpVerified(t);
      const first = uniqueEmail('first');
      const second = uniqueEmail('second');
      for (const email of [first, second]) {
        await t.http
          .patch('/api/v1/users/me')
          .set('Authorization', bearer(u.accessToken))
          .send({ email })
          .expect(200);
      }
      const old = await verify(t, await latestToken(first, CHANGE_SUBJECT));
      expect([old.status, old.body.code]).toEqual([400, 'email.invalid_token']);
      expect((await verify(t, await latestToken(second, CHANGE_SUBJECT))).status).toBe(204);
      expect((await me(t, u)).body).toMatchObject({ email: second, pendingEmail: null });
    });
  });

  describe('POST /auth/verify-email', () => {
    it('sign-up mails a 24 h link, stored hashed, that verifies once; a used link answers 400', async () => {
      const u = await signUp(t);
      const [mail] = await mailsTo(u.email, VERIFY_SUBJECT);
      expect(mail!.html).toContain('https://app.example.test/verify-email?token=');
      const token = verificationTokenFrom(mail!);
      expect(token).toMatch(/^[\w-]{43}$/);
      const [row] = await tokenRows(u.user.id);
      expect(row).toMatchObject({ email: u.email, tokenHash: sha256(token), usedAt: null });
      expect(row!.expiresAt.getTime() - row!.createdAt.getTime()).toBeGreaterThan(
        24 * 3_600_000 - 60_000,
      );
      expect(row!.expiresAt.getTime() - row!.createdAt.getTime()).toBeLessThan(
        24 * 3_600_000 + 60_000,
      );
      expect(JSON.stringify(await tokenRows(u.user.id))).not.toContain(token);

      expect((await verify(t, token)).status).toBe(204);
      expect((await me(t, u)).body).toMatchObject({ emailVerified: true, pendingEmail: null });
      const [user] = await t.db.select().from(users).where(eq(users.id, u.user.id));
      expect(user!.emailVerifiedAt).toBeInstanceOf(Date);

      const again = await verify(t, token);
      expect(again.status).toBe(400);
      expect(again.body).toMatchObject({ statusCode: 400, code: 'email.invalid_token' });
      expect(await activityRows(t.db, { userId: u.user.id, action: 'VERIFY_EMAIL' })).toHaveLength(
        1,
      );
    });

    it('an expired link answers 400 and verifies nothing', async () => {
      const u = await signUp(t);
      const token = await latestToken(u.email, VERIFY_SUBJECT);
      await t.db
        .update(emailVerificationTokens)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(emailVerificationTokens.userId, u.user.id));
      const res = await verify(t, token);
      expect([res.status, res.body.code]).toEqual([400, 'email.invalid_token']);
      expect((await me(t, u)).body.emailVerified).toBe(false);
    });

    it.each([
      ['a forged token', { token: 'A'.repeat(43) }, 'email.invalid_token'],
      ['garbage', { token: 'not-a-token' }, 'email.invalid_token'],
      ['no token', {}, 'request.invalid'],
      ['an unknown field', { token: 'A'.repeat(43), userId: 1 }, 'request.invalid'],
    ])('400 for %s', async (_name, body, code) => {
      const res = await t.http.post('/api/v1/auth/verify-email').send(body);
      expect([res.status, res.body.code]).toEqual([400, code]);
    });

    it('two concurrent uses of one link: one 204, one 400, one VERIFY_EMAIL row', async () => {
      const u = await signUp(t);
      const token = await latestToken(u.email, VERIFY_SUBJECT);
      const results = await Promise.all([verify(t, token), verify(t, token)]);
      expect(results.map((r) => r.status).sort()).toEqual([204, 400]);
      expect(await activityRows(t.db, { userId: u.user.id, action: 'VERIFY_EMAIL' })).toHaveLength(
        1,
      );
    });

    it('409 user.email_taken when another account took the new address before the link was used', async () => {
      const u = await signUpVerified(t);
      const wanted = uniqueEmail('wanted');
      await t.http
        .patch('/api/v1/users/me')
        .set('Authorization', bearer(u.accessToken))
        .send({ email: wanted })
        .expect(200);
      const token = await latestToken(wanted, CHANGE_SUBJECT);
      // The address was free at request time; someone signs up with it meanwhile.
      await signUp(t, { email: wanted });

      const res = await verify(t, token);
      expect([res.status, res.body.code]).toEqual([409, 'user.email_taken']);
      const [row] = await t.db.select().from(users).where(eq(users.id, u.user.id));
      expect(row).toMatchObject({ email: u.email, pendingEmail: wanted });
      expect(await activityRows(t.db, { userId: u.user.id, action: 'VERIFY_EMAIL' })).toEqual([]);
    });

    it('two accounts confirming the same new address at once: one wins, the other 409, never 500', async () => {
      const wanted = uniqueEmail('contested');
      const [a, b] = [await signUpVerified(t), await signUpVerified(t)];
      for (const u of [a, b]) {
        await t.http
          .patch('/api/v1/users/me')
          .set('Authorization', bearer(u.accessToken))
          .send({ email: wanted })
          .expect(200);
      }
      const tokens = (await mailsTo(wanted, CHANGE_SUBJECT, 2)).map(verificationTokenFrom);
      const results = await Promise.all(tokens.map((token) => verify(t, token)));
      expect(results.map((r) => r.status).sort()).toEqual([204, 409]);
      expect(results.find((r) => r.status === 409)!.body.code).toBe('user.email_taken');
      const owners = await t.db.select().from(users).where(eq(users.email, wanted));
      expect(owners).toHaveLength(1);
    });
  });

  describe('POST /auth/verify-email/resend', () => {
    const resend = (app: TestApp, u: { accessToken: string }) =>
      app.http.post('/api/v1/auth/verify-email/resend').set('Authorization', bearer(u.accessToken));

    it('202: a fresh link to an unverified email; the older link stops working', async () => {
      const u = await signUp(t);
      const first = await latestToken(u.email, VERIFY_SUBJECT);
      expect((await resend(t, u)).status).toBe(202);
      const second = await latestToken(u.email, VERIFY_SUBJECT, 2);
      expect(second).not.toBe(first);
      expect((await verify(t, first)).status).toBe(400);
      expect((await verify(t, second)).status).toBe(204);
    });

    it('202 and no mail when my email is verified and nothing is pending; a pending address gets a link', async () => {
      const u = await signUpVerified(t);
      await mailsTo(u.email, VERIFY_SUBJECT); // the sign-up mail
      const before = (await tokenRows(u.user.id)).length;
      expect((await resend(t, u)).status).toBe(202);
      expect(await tokenRows(u.user.id)).toHaveLength(before);
      await sleep(300);
      expect(smtp.messages.filter((m) => m.to.includes(u.email))).toHaveLength(1);

      const pending = uniqueEmail('pending');
      await t.http
        .patch('/api/v1/users/me')
        .set('Authorization', bearer(u.accessToken))
        .send({ email: pending })
        .expect(200);
      expect((await resend(t, u)).status).toBe(202);
      // Both links are queued within milliseconds and may arrive in either order: only the
      // newer one works (a new link replaces the older one).
      const links = (await mailsTo(pending, CHANGE_SUBJECT, 2)).map(verificationTokenFrom);
      const statuses: number[] = [];
      for (const token of links) statuses.push((await verify(t, token)).status);
      expect(statuses.sort()).toEqual([204, 400]);
      expect((await me(t, u)).body).toMatchObject({ email: pending, emailVerified: true });
    });

    it('is rate limited per account (429 with Retry-After), shared with email changes', async () => {
      const limited = await createTestApp({
        env: { SMTP_URL: smtp.url, RATE_LIMIT_PER_EMAIL: '2' },
      });
      try {
        const u = await signUp(limited);
        expect((await resend(limited, u)).status).toBe(202);
        expect((await resend(limited, u)).status).toBe(202);
        const third = await resend(limited, u);
        expect([third.status, third.body.code]).toEqual([429, 'request.rate_limited']);
        expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
        const patch = await limited.http
          .patch('/api/v1/users/me')
          .set('Authorization', bearer(u.accessToken))
          .send({ email: uniqueEmail('spam') });
        expect(patch.status).toBe(429);
        // Another account is not affected.
        expect((await resend(limited, await signUp(limited))).status).toBe(202);
      } finally {
        await limited.close();
      }
    });

    it('sign-up still succeeds when the mail server is down; a resend sends the link later', async () => {
      const down = await startSmtpCapture();
      await down.close();
      const broken = await createTestApp({ env: { SMTP_URL: down.url } });
      try {
        const u = await signUp(broken);
        const [row] = await broken.db.select().from(users).where(eq(users.id, u.user.id));
        expect(row).toMatchObject({ email: u.email, emailVerifiedAt: null });
        expect(await tokenRows(u.user.id)).toHaveLength(1);
        expect((await resend(broken, u)).status).toBe(202);
      } finally {
        await broken.close();
      }
    });
  });

  describe('invitation links prove the mailbox', () => {
    it('sign-up with an invite token is verified at once, without a verification mail', async () => {
      const owner = await signUpVerified(t);
      const email = uniqueEmail('invited');
      await invite(owner, email);
      const res = await t.http
        .post('/api/v1/auth/sign-up')
        .send({ email, password: DEFAULT_PASSWORD, inviteToken: await inviteToken(email) });
      expect(res.status).toBe(201);
      expect(res.body.user).toMatchObject({ email, emailVerified: true, pendingEmail: null });
      expect((await me(t, res.body as SignedUp)).body.emailVerified).toBe(true);
      expect(await tokenRows(res.body.user.id as number)).toEqual([]);
    });

    it('POST /invitations/accept {token}: joins, verifies my email, ACCEPT_INVITATION; again → 409, one membership', async () => {
      const owner = await signUpVerified(t);
      const email = uniqueEmail('holder');
      const u = await signUp(t, { email });
      const id = await invite(owner, email, 'owner');
      const token = await inviteToken(email);
      const accept = () =>
        t.http
          .post('/api/v1/invitations/accept')
          .set('Authorization', bearer(u.accessToken))
          .send({ token });

      const results = await Promise.all([accept(), accept(), accept(), accept(), accept()]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409]);
      const ok = results.find((r) => r.status === 200)!;
      expect(ok.body).toEqual({
        teamId: owner.team.id,
        teamName: owner.team.name,
        memberId: expect.any(Number),
        role: 'owner',
        joinedAt: expect.any(String),
      });
      expect(results.filter((r) => r.status === 409).map((r) => r.body.code as string)).toEqual(
        Array(4).fill('invitation.already_accepted'),
      );
      expect((await membershipsIn(owner.team.id, u.user.id)).map((m) => m.id)).toEqual([
        ok.body.memberId,
      ]);
      expect(await invitationStatus(id)).toBe('accepted');
      expect(
        (await activityRows(t.db, { userId: u.user.id, action: 'ACCEPT_INVITATION' })).map((l) => [
          l.teamId,
          l.ipAddress,
        ]),
      ).toEqual([[owner.team.id, '127.0.0.1']]);
      expect((await me(t, u)).body.emailVerified).toBe(true);
    });

    it('POST /invitations/accept: 403 for a token addressed to someone else, 400 for a forged one', async () => {
      const owner = await signUpVerified(t);
      const email = uniqueEmail('addressee');
      const id = await invite(owner, email);
      const token = await inviteToken(email);
      const other = await signUpVerified(t);
      const res = await t.http
        .post('/api/v1/invitations/accept')
        .set('Authorization', bearer(other.accessToken))
        .send({ token });
      expect([res.status, res.body.code]).toEqual([403, 'invitation.email_mismatch']);
      expect(await membershipsIn(owner.team.id, other.user.id)).toEqual([]);
      expect(await invitationStatus(id)).toBe('pending');

      const [version, tokenId, exp] = token.split('.');
      for (const forged of ['nope', `${version}.${tokenId}.${exp}.${'A'.repeat(43)}`]) {
        const r = await t.http
          .post('/api/v1/invitations/accept')
          .set('Authorization', bearer(other.accessToken))
          .send({ token: forged });
        expect([r.status, r.body.code]).toEqual([400, 'invitation.invalid_token']);
      }
      const empty = await t.http
        .post('/api/v1/invitations/accept')
        .set('Authorization', bearer(other.accessToken))
        .send({});
      expect([empty.status, empty.body.code]).toEqual([400, 'request.invalid']);
      expect(await invitationStatus(id)).toBe('pending');
    });
  });

  describe('EMAIL_VERIFICATION=required', () => {
    let strict: TestApp;

    beforeAll(async () => {
      strict = await createTestApp({
        env: { SMTP_URL: smtp.url, EMAIL_VERIFICATION: 'required' },
      });
    });

    afterAll(async () => {
      await strict.close();
    });

    it('an unverified user reaches exactly GET /users/me, POST /auth/verify-email/resend and POST /auth/sign-out', async () => {
      const u = await signUp(strict);
      const doc = (await strict.http.get('/docs-json').expect(200)).body as {
        paths: Record<string, Record<string, { security?: unknown[] }>>;
      };
      const allowed: Record<string, number> = {
        'GET /api/v1/users/me': 200,
        'POST /api/v1/auth/verify-email/resend': 202,
      };
      const results: Record<string, string> = {};
      for (const [path, item] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(item)) {
          if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
          if (op.security === undefined || op.security.length === 0) continue;
          // Only the user token's operations (GET /metrics has a token of its own).
          if (!op.security.some((scheme) => 'bearer' in (scheme as object))) continue;
          const key = `${method.toUpperCase()} ${path}`;
          if (key === 'POST /api/v1/auth/sign-out') continue; // last, below: it ends the session
          const url = path.replace(/\{[^}]+\}/g, '1');
          const res = await strict.http[method as 'get' | 'post' | 'put' | 'patch' | 'delete'](url)
            .set('Authorization', bearer(u.accessToken))
            .send({});
          results[key] = `${res.status} ${res.body?.code ?? ''}`.trim();
        }
      }
      const expected = Object.fromEntries(
        Object.keys(results).map((key) => [
          key,
          key in allowed ? String(allowed[key]) : '403 email.unverified',
        ]),
      );
      expect(results).toEqual(expected);
      expect(Object.keys(results).length).toBeGreaterThan(20);

      await strict.http
        .post('/api/v1/auth/sign-out')
        .set('Authorization', bearer(u.accessToken))
        .expect(204);
      await me(strict, u).expect(401);
    });

    it('verifying the email opens the rest; verified users are not affected', async () => {
      const u = await signUp(strict);
      const auth = bearer(u.accessToken);
      const blocked = await strict.http.get('/api/v1/teams').set('Authorization', auth);
      expect([blocked.status, blocked.body.code]).toEqual([403, 'email.unverified']);
      expect((await me(strict, u)).body).toMatchObject({ emailVerified: false });

      expect((await verify(strict, await latestToken(u.email, VERIFY_SUBJECT))).status).toBe(204);
      // The same access token works at once: the guard reads the user per request.
      await strict.http.get('/api/v1/teams').set('Authorization', auth).expect(200);
      await strict.http.get(`/api/v1/teams/${u.team.id}`).set('Authorization', auth).expect(200);

      const verified = await signUpVerified(strict);
      await strict.http
        .get('/api/v1/activity')
        .set('Authorization', bearer(verified.accessToken))
        .expect(200);
    });
  });
});
