import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, asc, eq, sql } from 'drizzle-orm';
import {
  activityLogs,
  invitations,
  teamMembers,
  teams,
  users,
  type Invitation,
} from '../../src/database/schema.js';
import { InvitationsService } from '../../src/modules/invitations/invitations.service.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import {
  bearer,
  DEFAULT_PASSWORD,
  signUp,
  signUpVerified,
  type SignedUp,
} from '../support/auth.js';
import { startSmtpCapture, type SmtpCapture } from '../support/smtp.js';

describe('invitations (e2e)', () => {
  let t: TestApp;
  let smtp: SmtpCapture;

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    t = await createTestApp({ env: { SMTP_URL: smtp.url, APP_URL: 'https://app.example.test' } });
  });

  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  async function invite(owner: SignedUp, email: string, role: 'owner' | 'member' = 'member') {
    return t.http
      .post(`/api/v1/teams/${owner.team.id}/invitations`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ email, role });
  }

  async function invitationRow(id: number): Promise<Invitation> {
    const [row] = await t.db.select().from(invitations).where(eq(invitations.id, id));
    return row!;
  }

  function tokenFrom(text: string): string {
    const match = /https:\/\/app\.example\.test\/invitations\/accept\?token=([^\s"<]+)/.exec(text);
    expect(match).not.toBeNull();
    return decodeURIComponent(match![1]!);
  }

  async function activity(teamId: number) {
    return t.db
      .select()
      .from(activityLogs)
      .where(eq(activityLogs.teamId, teamId))
      .orderBy(asc(activityLogs.id));
  }

  async function countUsers(email: string): Promise<number> {
    const [row] = await t.db
      .select({ n: sql<number>`count(*)::int` })
      .from(users)
      .where(eq(users.email, email));
    return row!.n;
  }

  it('invite → email → sign-up with inviteToken joins the team in one go', async () => {
    const owner = await signUpVerified(t, { name: 'Olga' });
    const email = uniqueEmail('newbie');
    const res = await invite(owner, email.toUpperCase(), 'member');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(Number),
      teamId: owner.team.id,
      teamName: owner.team.name,
      email,
      role: 'member',
      invitedBy: owner.user.id,
      invitedByName: 'Olga',
      invitedAt: expect.any(String),
      expiresAt: expect.any(String),
      status: 'pending',
    });
    expect(Date.parse(res.body.expiresAt) - Date.parse(res.body.invitedAt)).toBe(7 * 86_400_000);
    const invitationId = res.body.id as number;
    expect(await invitationRow(invitationId)).toMatchObject({ status: 'pending', email });
    expect(
      (await activity(owner.team.id)).map((l) => [l.action, l.userId, l.ipAddress]),
    ).toContainEqual(['INVITE_TEAM_MEMBER', owner.user.id, '127.0.0.1']);

    const mail = await smtp.waitForMail(email);
    // The team's name (here the default, "<email>'s Team") is written so no client links it.
    expect(mail.subject).toBe(
      `Olga invited you to join ${owner.team.name.replace('.test', '[.]test')}`,
    );
    const token = tokenFrom(mail.text);
    // The token names the invitation and its expiry; the address is only under its HMAC.
    const [version, tokenId, tokenExp, signature] = token.split('.');
    expect([version, Number(tokenId), Number(tokenExp)]).toEqual([
      'inv2',
      invitationId,
      Math.floor(Date.parse(res.body.expiresAt) / 1000),
    ]);
    expect(signature).toMatch(/^[\w-]{43}$/);
    const link = /https?:\/\/\S+token=\S+/.exec(mail.text)![0];
    expect(link).not.toContain(email.split('@')[0]);
    expect(decodeURIComponent(link)).not.toContain(email.split('@')[0]);
    expect(mail.html).toContain('https://app.example.test/invitations/accept?token=');

    const signed = await t.http
      .post('/api/v1/auth/sign-up')
      .send({ email, password: DEFAULT_PASSWORD, name: 'Newbie', inviteToken: token });
    expect(signed.status).toBe(201);
    expect(signed.body.team).toEqual({ id: owner.team.id, name: owner.team.name, role: 'member' });
    const userId = signed.body.user.id as number;

    const memberships = await t.db.select().from(teamMembers).where(eq(teamMembers.userId, userId));
    expect(memberships.map((m) => [m.teamId, m.role])).toEqual([[owner.team.id, 'member']]);
    expect((await invitationRow(invitationId)).status).toBe('accepted');
    const ownTeams = await t.db
      .select()
      .from(teams)
      .where(eq(teams.name, `${email}'s Team`));
    expect(ownTeams).toEqual([]);
    const mine = (await activity(owner.team.id)).filter((l) => l.userId === userId);
    expect(mine.map((l) => [l.action, l.ipAddress])).toEqual([
      ['SIGN_UP', '127.0.0.1'],
      ['ACCEPT_INVITATION', '127.0.0.1'],
    ]);

    // The token is spent: signing up again with it (another address or the same) fails.
    const again = await t.http
      .post('/api/v1/auth/sign-up')
      .send({ email: uniqueEmail(), password: DEFAULT_PASSWORD, inviteToken: token });
    expect([again.status, again.body.code]).toEqual([400, 'invitation.email_mismatch']);
  });

  it('sign-up with a token for another email, or a forged token, writes nothing', async () => {
    const owner = await signUpVerified(t);
    const email = uniqueEmail('target');
    const res = await invite(owner, email);
    expect(res.status).toBe(201);
    const token = tokenFrom((await smtp.waitForMail(email)).text);
    const intruder = uniqueEmail('intruder');
    // Another invitation, addressed to the intruder: the signature must not carry over to it.
    const other = await invite(owner, intruder);
    expect(other.status).toBe(201);
    const before = await activity(owner.team.id);

    const mismatch = await t.http
      .post('/api/v1/auth/sign-up')
      .send({ email: intruder, password: DEFAULT_PASSWORD, inviteToken: token });
    expect([mismatch.status, mismatch.body.code]).toEqual([400, 'invitation.email_mismatch']);
    expect(await countUsers(intruder)).toBe(0);

    const [version, , exp, signature] = token.split('.');
    const moved = `${version}.${other.body.id as number}.${exp}.${signature}`;
    for (const forged of [
      moved,
      'not-a-token',
      `${token}x`,
      `${version}.999999999.${exp}.${signature}`,
    ]) {
      const r = await t.http
        .post('/api/v1/auth/sign-up')
        .send({ email: intruder, password: DEFAULT_PASSWORD, inviteToken: forged });
      expect({ forged, status: r.status, code: r.body.code }).toEqual({
        forged,
        status: 400,
        code: 'invitation.invalid_token',
      });
    }
    expect(await countUsers(intruder)).toBe(0);
    expect((await invitationRow(res.body.id as number)).status).toBe('pending');
    expect((await invitationRow(other.body.id as number)).status).toBe('pending');
    expect(await activity(owner.team.id)).toEqual(before);
  });

  it('409 for an existing member or a pending invitation; concurrent invites create one', async () => {
    const owner = await signUpVerified(t);
    const member = await signUp(t);
    await t.db
      .insert(teamMembers)
      .values({ teamId: owner.team.id, userId: member.user.id, role: 'member' });

    const asMember = await invite(owner, member.email.toUpperCase());
    expect([asMember.status, asMember.body.code]).toEqual([409, 'invitation.already_member']);
    const self = await invite(owner, owner.email);
    expect([self.status, self.body.code]).toEqual([409, 'invitation.already_member']);

    const email = uniqueEmail('twice');
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => invite(owner, email)));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
    expect(results.filter((r) => r.status === 409).map((r) => r.body.code as string)).toEqual(
      Array(4).fill('invitation.already_invited'),
    );
    const rows = await t.db
      .select()
      .from(invitations)
      .where(and(eq(invitations.teamId, owner.team.id), eq(invitations.email, email)));
    expect(rows).toHaveLength(1);
    const logs = (await activity(owner.team.id)).filter((l) => l.action === 'INVITE_TEAM_MEMBER');
    expect(logs).toHaveLength(1);

    for (const body of [{ email: 'nope', role: 'member' }, { email, role: 'admin' }, { email }]) {
      const r = await t.http
        .post(`/api/v1/teams/${owner.team.id}/invitations`)
        .set('Authorization', bearer(owner.accessToken))
        .send(body);
      expect([r.status, r.body.code]).toEqual([400, 'request.invalid']);
    }
  });

  it('an existing user lists, accepts once (ACCEPT_INVITATION), and cannot accept again', async () => {
    const owner = await signUpVerified(t);
    const invitee = await signUpVerified(t);
    const res = await invite(owner, invitee.email, 'owner');
    const id = res.body.id as number;

    const listed = await t.http
      .get('/api/v1/invitations')
      .set('Authorization', bearer(invitee.accessToken));
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({
      items: [
        expect.objectContaining({ id, teamId: owner.team.id, role: 'owner', status: 'pending' }),
      ],
      nextCursor: null,
    });
    const teamList = await t.http
      .get(`/api/v1/teams/${owner.team.id}/invitations`)
      .set('Authorization', bearer(owner.accessToken));
    expect((teamList.body.items as { id: number }[]).map((i) => i.id)).toEqual([id]);

    const stranger = await signUpVerified(t);
    for (const action of ['accept', 'decline']) {
      const r = await t.http
        .post(`/api/v1/invitations/${id}/${action}`)
        .set('Authorization', bearer(stranger.accessToken));
      expect([r.status, r.body.code]).toEqual([404, 'invitation.not_found']);
    }
    const strangerList = await t.http
      .get('/api/v1/invitations')
      .set('Authorization', bearer(stranger.accessToken));
    expect(strangerList.body.items).toEqual([]);

    const accepted = await t.http
      .post(`/api/v1/invitations/${id}/accept`)
      .set('Authorization', bearer(invitee.accessToken));
    expect(accepted.status).toBe(200);
    expect(accepted.body).toEqual({
      teamId: owner.team.id,
      teamName: owner.team.name,
      memberId: expect.any(Number),
      role: 'owner',
      joinedAt: expect.any(String),
    });
    const again = await t.http
      .post(`/api/v1/invitations/${id}/accept`)
      .set('Authorization', bearer(invitee.accessToken));
    expect([again.status, again.body.code]).toEqual([409, 'invitation.already_accepted']);
    const decline = await t.http
      .post(`/api/v1/invitations/${id}/decline`)
      .set('Authorization', bearer(invitee.accessToken));
    expect([decline.status, decline.body.code]).toEqual([409, 'invitation.already_accepted']);

    const memberships = await t.db
      .select()
      .from(teamMembers)
      .where(and(eq(teamMembers.teamId, owner.team.id), eq(teamMembers.userId, invitee.user.id)));
    expect(memberships.map((m) => [m.id, m.role])).toEqual([[accepted.body.memberId, 'owner']]);
    const logs = (await activity(owner.team.id)).filter((l) => l.action === 'ACCEPT_INVITATION');
    expect(logs.map((l) => [l.userId, l.ipAddress])).toEqual([[invitee.user.id, '127.0.0.1']]);
    const revoke = await t.http
      .delete(`/api/v1/teams/${owner.team.id}/invitations/${id}`)
      .set('Authorization', bearer(owner.accessToken));
    expect([revoke.status, revoke.body.code]).toEqual([409, 'invitation.already_accepted']);
  });

  it('twenty concurrent accepts create one membership and one ACCEPT_INVITATION row', async () => {
    const owner = await signUpVerified(t);
    const invitee = await signUpVerified(t);
    const id = (await invite(owner, invitee.email)).body.id as number;
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        t.http
          .post(`/api/v1/invitations/${id}/accept`)
          .set('Authorization', bearer(invitee.accessToken)),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409).map((r) => r.body.code as string)).toEqual(
      Array(19).fill('invitation.already_accepted'),
    );
    const memberships = await t.db
      .select()
      .from(teamMembers)
      .where(and(eq(teamMembers.teamId, owner.team.id), eq(teamMembers.userId, invitee.user.id)));
    expect(memberships).toHaveLength(1);
    const logs = (await activity(owner.team.id)).filter((l) => l.action === 'ACCEPT_INVITATION');
    expect(logs).toHaveLength(1);
    expect((await invitationRow(id)).status).toBe('accepted');
  });

  it('declined and revoked invitations answer clear codes and cannot be accepted', async () => {
    const owner = await signUpVerified(t);
    const invitee = await signUpVerified(t);
    const auth = bearer(invitee.accessToken);

    const declinedId = (await invite(owner, invitee.email)).body.id as number;
    const declined = await t.http
      .post(`/api/v1/invitations/${declinedId}/decline`)
      .set('Authorization', auth);
    expect(declined.status).toBe(204);
    expect((await invitationRow(declinedId)).status).toBe('declined');
    const afterDecline = await t.http
      .post(`/api/v1/invitations/${declinedId}/accept`)
      .set('Authorization', auth);
    expect([afterDecline.status, afterDecline.body.code]).toEqual([409, 'invitation.declined']);

    // A declined invitation is no longer pending, so the owner may invite again.
    const res = await invite(owner, invitee.email);
    expect(res.status).toBe(201);
    const revokedId = res.body.id as number;
    const token = tokenFrom(
      (await smtp.waitForMail(invitee.email, { subject: 'invited you' })).text,
    );
    const revoke = await t.http
      .delete(`/api/v1/teams/${owner.team.id}/invitations/${revokedId}`)
      .set('Authorization', bearer(owner.accessToken));
    expect(revoke.status).toBe(204);
    expect((await invitationRow(revokedId)).status).toBe('revoked');
    const revokeAgain = await t.http
      .delete(`/api/v1/teams/${owner.team.id}/invitations/${revokedId}`)
      .set('Authorization', bearer(owner.accessToken));
    expect(revokeAgain.status).toBe(204);
    const afterRevoke = await t.http
      .post(`/api/v1/invitations/${revokedId}/accept`)
      .set('Authorization', auth);
    expect([afterRevoke.status, afterRevoke.body.code]).toEqual([410, 'invitation.revoked']);
    const list = await t.http.get('/api/v1/invitations').set('Authorization', auth);
    expect(list.body.items).toEqual([]);

    const memberships = await t.db
      .select()
      .from(teamMembers)
      .where(and(eq(teamMembers.teamId, owner.team.id), eq(teamMembers.userId, invitee.user.id)));
    expect(memberships).toEqual([]);
    expect(token).toMatch(/^inv2\./);
  });

  it('an invitation expires 7 days after invitedAt: accept by id, by token, and lists', async () => {
    const owner = await signUpVerified(t);
    const invitee = await signUpVerified(t);
    const id = (await invite(owner, invitee.email)).body.id as number;
    const eightDaysAgo = new Date(Date.now() - 8 * 86_400_000);
    await t.db.update(invitations).set({ invitedAt: eightDaysAgo }).where(eq(invitations.id, id));

    const accept = await t.http
      .post(`/api/v1/invitations/${id}/accept`)
      .set('Authorization', bearer(invitee.accessToken));
    expect([accept.status, accept.body.code]).toEqual([410, 'invitation.expired']);
    const mine = await t.http
      .get('/api/v1/invitations')
      .set('Authorization', bearer(invitee.accessToken));
    expect(mine.body.items).toEqual([]);
    const teamList = await t.http
      .get(`/api/v1/teams/${owner.team.id}/invitations`)
      .set('Authorization', bearer(owner.accessToken));
    expect(teamList.body.items).toEqual([]);

    // A new user holding a link to an expired invitation.
    const email = uniqueEmail('late');
    const [old] = await t.db
      .insert(invitations)
      .values({
        teamId: owner.team.id,
        email,
        role: 'member',
        invitedBy: owner.user.id,
        invitedAt: eightDaysAgo,
      })
      .returning();
    const link = t.app.get(InvitationsService).invitationLink(old!);
    const token = decodeURIComponent(new URL(link).searchParams.get('token')!);
    const signUpRes = await t.http
      .post('/api/v1/auth/sign-up')
      .send({ email, password: DEFAULT_PASSWORD, inviteToken: token });
    expect([signUpRes.status, signUpRes.body.code]).toEqual([410, 'invitation.expired']);
    expect(await countUsers(email)).toBe(0);

    // The expired invitation does not block a fresh one (it is retired as expired).
    const fresh = await invite(owner, invitee.email);
    expect(fresh.status).toBe(201);
    expect((await invitationRow(id)).status).toBe('expired');
  });

  it.each(['abc', '0', '99999999999'])('answers 400 for the invitation id %j', async (bad) => {
    const me = await signUp(t);
    const res = await t.http
      .post(`/api/v1/invitations/${bad}/accept`)
      .set('Authorization', bearer(me.accessToken));
    expect([res.status, res.body.details?.[0]?.field]).toEqual([400, 'invitationId']);
  });
});
