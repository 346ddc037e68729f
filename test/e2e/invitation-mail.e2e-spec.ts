import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq, sql } from 'drizzle-orm';
import { invitations, teamMembers } from '../../src/database/schema.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, signUpVerified, type SignedUp } from '../support/auth.js';
import { findAutolinks, visibleHtmlText } from '../support/autolink.js';
import { expect429 } from '../support/rate-limit.js';
import { startSmtpCapture, type SmtpCapture } from '../support/smtp.js';

/**
 * Invitation mail must not be a relay for someone else's message (API.md v1.2): the mails are
 * counted per inviter, per team and per recipient address (429 with Retry-After past a limit),
 * and the team's name (and the inviter's) in them is plain text that no mail client links.
 */
const LIMITS = {
  INVITATION_RATE_LIMIT_PER_INVITER: '3',
  INVITATION_RATE_LIMIT_PER_TEAM: '4',
  INVITATION_RATE_LIMIT_PER_RECIPIENT: '2',
  INVITATION_RATE_LIMIT_WINDOW: '600',
};

describe('invitation mail (e2e)', () => {
  let t: TestApp;
  let smtp: SmtpCapture;

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    t = await createTestApp({
      env: { ...LIMITS, SMTP_URL: smtp.url, APP_URL: 'https://app.example.test' },
    });
  });

  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  function invite(
    token: string,
    teamId: number,
    email: string,
    role: 'owner' | 'member' = 'member',
  ) {
    return t.http
      .post(`/api/v1/teams/${teamId}/invitations`)
      .set('Authorization', bearer(token))
      .send({ email, role });
  }

  function revoke(owner: SignedUp, teamId: number, invitationId: number) {
    return t.http
      .delete(`/api/v1/teams/${teamId}/invitations/${invitationId}`)
      .set('Authorization', bearer(owner.accessToken))
      .expect(204);
  }

  async function newTeam(owner: SignedUp, name = 'Second team'): Promise<number> {
    const res = await t.http
      .post('/api/v1/teams')
      .set('Authorization', bearer(owner.accessToken))
      .send({ name })
      .expect(201);
    return res.body.id as number;
  }

  async function rowsTo(email: string) {
    return t.db.select().from(invitations).where(eq(invitations.email, email));
  }

  /** Mails queued so far by this app (each is queued in the transaction of its invitation). */
  async function queuedMails(): Promise<number> {
    const result = await t.db.execute<{ n: number }>(
      sql`select count(*)::int as n from ${sql.identifier(t.config.jobs.schema)}.job where name = 'mail.send'`,
    );
    return result.rows[0]!.n;
  }

  describe('rate limits (per inviter 3, per team 4, per recipient 2, in 600 s)', () => {
    it('per inviter, across their teams: the fourth mail is 429 with Retry-After, nothing written', async () => {
      const owner = await signUpVerified(t);
      const second = await newTeam(owner);
      for (const email of [uniqueEmail('a'), uniqueEmail('b'), uniqueEmail('c')]) {
        expect((await invite(owner.accessToken, owner.team.id, email)).status).toBe(201);
      }
      const mails = await queuedMails();
      const refused = uniqueEmail('d');
      expect429(await invite(owner.accessToken, second, refused));
      expect(await rowsTo(refused)).toEqual([]);
      expect(await queuedMails()).toBe(mails);

      // Someone else inviting the same address is not affected.
      const other = await signUpVerified(t);
      expect((await invite(other.accessToken, other.team.id, refused)).status).toBe(201);
      await smtp.waitForMail(refused);
    });

    it('per team, whoever invites: co-owners and a team API key share the team’s allowance', async () => {
      const owner = await signUpVerified(t);
      const coOwner = await signUpVerified(t);
      const teamId = owner.team.id;
      await t.db.insert(teamMembers).values({ teamId, userId: coOwner.user.id, role: 'owner' });
      const created = await t.http
        .post(`/api/v1/teams/${teamId}/api-keys`)
        .set('Authorization', bearer(owner.accessToken))
        .send({ name: 'hr-sync', scopes: ['invitations:write'] })
        .expect(201);
      const key = created.body.key as string;

      expect((await invite(owner.accessToken, teamId, uniqueEmail('1'))).status).toBe(201);
      expect((await invite(owner.accessToken, teamId, uniqueEmail('2'))).status).toBe(201);
      expect((await invite(coOwner.accessToken, teamId, uniqueEmail('3'))).status).toBe(201);
      expect((await invite(coOwner.accessToken, teamId, uniqueEmail('4'))).status).toBe(201);
      // Each inviter has one mail left, the team none.
      expect429(await invite(coOwner.accessToken, teamId, uniqueEmail('5')));
      expect429(await invite(key, teamId, uniqueEmail('6')));
      const rows = await t.db.select().from(invitations).where(eq(invitations.teamId, teamId));
      expect(rows).toHaveLength(4);

      // The co-owner's own team still has its allowance, and so has the co-owner.
      expect((await invite(coOwner.accessToken, coOwner.team.id, uniqueEmail('7'))).status).toBe(
        201,
      );
    });

    it('per recipient, across teams: a revoke-and-re-invite loop stops at the limit', async () => {
      const owner = await signUpVerified(t);
      const target = uniqueEmail('target');
      for (let i = 0; i < 2; i++) {
        const res = await invite(owner.accessToken, owner.team.id, target);
        expect(res.status).toBe(201);
        await revoke(owner, owner.team.id, res.body.id as number);
      }
      expect429(await invite(owner.accessToken, owner.team.id, target));
      // Another team's owner may not mail that address either, but may mail others.
      const other = await signUpVerified(t);
      expect429(await invite(other.accessToken, other.team.id, target.toUpperCase()));
      expect((await invite(other.accessToken, other.team.id, uniqueEmail('fine'))).status).toBe(
        201,
      );
      expect((await rowsTo(target)).map((r) => r.status)).toEqual(['revoked', 'revoked']);

      // A refusal for the recipient did not spend the inviter's allowance: 2 mails so far, so
      // one more address is fine (and the fourth mail is over the inviter's limit).
      expect((await invite(owner.accessToken, owner.team.id, uniqueEmail('x'))).status).toBe(201);
      expect429(await invite(owner.accessToken, owner.team.id, uniqueEmail('y')));
    });

    it('counts mails only: a 409 (already invited, already a member) sends none and costs nothing', async () => {
      const owner = await signUpVerified(t);
      const invited = uniqueEmail('once');
      expect((await invite(owner.accessToken, owner.team.id, invited)).status).toBe(201);
      for (const email of [invited, invited, owner.email, owner.email]) {
        expect((await invite(owner.accessToken, owner.team.id, email)).status).toBe(409);
      }
      expect((await invite(owner.accessToken, owner.team.id, uniqueEmail('two'))).status).toBe(201);
      expect((await invite(owner.accessToken, owner.team.id, uniqueEmail('three'))).status).toBe(
        201,
      );
    });

    it('sixty invitations at once from a new account: three are sent, the rest are 429', async () => {
      const owner = await signUpVerified(t);
      const before = await queuedMails();
      const emails = Array.from({ length: 60 }, (_, i) => uniqueEmail(`burst${i}`));
      const results = await Promise.all(
        emails.map((email) => invite(owner.accessToken, owner.team.id, email)),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(3);
      expect(statuses.filter((s) => s === 429)).toHaveLength(57);
      for (const res of results.filter((r) => r.status === 429)) expect429(res);
      const rows = await t.db
        .select()
        .from(invitations)
        .where(eq(invitations.teamId, owner.team.id));
      expect(rows).toHaveLength(3);
      expect((await queuedMails()) - before).toBe(3);
    });
  });

  describe('names in the mail are plain text', () => {
    /** Renames the team (as its owner) and invites a fresh address; returns the mail. */
    async function mailFor(owner: SignedUp, teamName: string) {
      await t.http
        .patch(`/api/v1/teams/${owner.team.id}`)
        .set('Authorization', bearer(owner.accessToken))
        .send({ name: teamName })
        .expect(200);
      const email = uniqueEmail('reader');
      expect((await invite(owner.accessToken, owner.team.id, email)).status).toBe(201);
      return smtp.waitForMail(email);
    }

    /** The mail's text without the accept link and the expiry instant (ours, both expected). */
    function userText(text: string): string {
      return text
        .replace(/https:\/\/app\.example\.test\/invitations\/accept\?token=\S+/g, '')
        .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, '');
    }

    it.each([
      ['evil.example.com/login', 'evil[.]example[.]com/login'],
      ['https://x.y', 'https[:]//x[.]y'],
      ['www.bank-login.com', 'www[.]bank-login[.]com'],
      ['support@evil.example', 'support@evil[.]example'],
      ['mailto:help@x.io', 'mailto[:]help@x[.]io'],
      ['Pay at evil。com or 10.0.0.1:8080', 'Pay at evil[。]com or 10[.]0[.]0[.]1[:]8080'],
    ])('team name %j: no link in subject, text or HTML', async (teamName, shown) => {
      const owner = await signUpVerified(t, { name: 'Mallory' });
      const mail = await mailFor(owner, teamName);
      expect(mail.subject).toBe(`Mallory invited you to join ${shown}`);
      expect(mail.text).toContain(`the team "${shown}"`);
      expect({
        subject: findAutolinks(mail.subject),
        text: findAutolinks(userText(mail.text)),
        html: findAutolinks(userText(visibleHtmlText(mail.html ?? ''))),
      }).toEqual({ subject: [], text: [], html: [] });
      // The only link of the HTML part is the accept link.
      expect([...mail.html!.matchAll(/<a\b[^>]*>/g)].map((m) => m[0])).toEqual([
        expect.stringMatching(/^<a href="https:\/\/app\.example\.test\/invitations\/accept\?/),
      ]);
    });

    it('markup in a team name or an inviter name stays text in the HTML part', async () => {
      const owner = await signUpVerified(t, { name: 'Eve <a href="https://evil.example">x</a>' });
      const mail = await mailFor(owner, '<a href="https://evil.example/login">Acme</a> & Co');
      expect(mail.html).not.toContain('<a href="https://evil');
      expect([...mail.html!.matchAll(/<a\b/g)]).toHaveLength(1);
      const visible = visibleHtmlText(mail.html!);
      expect(visible).toContain('<a href="https[:]//evil[.]example/login">Acme</a> & Co');
      expect(visible).toContain('Eve <a href="https[:]//evil[.]example">x</a>');
      expect(findAutolinks(userText(visible))).toEqual([]);
      expect(findAutolinks(mail.subject)).toEqual([]);
    });

    it('an ordinary team name reads as it is', async () => {
      const owner = await signUpVerified(t, { name: 'Olga' });
      const mail = await mailFor(owner, 'Acme Inc. (Berlin): Sales & Ops');
      expect(mail.subject).toBe('Olga invited you to join Acme Inc. (Berlin): Sales & Ops');
      expect(visibleHtmlText(mail.html!)).toContain('Acme Inc. (Berlin): Sales & Ops');
    });
  });

  it('an owner invitation by a team API key is still refused before any mail', async () => {
    const owner = await signUpVerified(t);
    const created = await t.http
      .post(`/api/v1/teams/${owner.team.id}/api-keys`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ name: 'bot', scopes: ['invitations:write'] })
      .expect(201);
    const email = uniqueEmail('take-over');
    const res = await invite(created.body.key as string, owner.team.id, email, 'owner');
    expect([res.status, res.body.code]).toEqual([403, 'api_key.role_forbidden']);
    expect(
      await t.db
        .select()
        .from(invitations)
        .where(and(eq(invitations.teamId, owner.team.id), eq(invitations.email, email))),
    ).toEqual([]);
  });
});
