import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq } from 'drizzle-orm';
import { sessions, teamMembers, teams, users } from '../../src/database/schema.js';
import { activityRows } from '../support/activity.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, signIn, signUp, type SignedUp } from '../support/auth.js';

describe('users/me', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  const logsOf = (userId: number, action: string) => activityRows(t.db, { userId, action });

  /** Adds `user` to `teamId` directly (the teams API is another module's). */
  const join = (teamId: number, userId: number, role: 'owner' | 'member') =>
    t.db.insert(teamMembers).values({ teamId, userId, role });

  describe('GET /users/me', () => {
    it('returns the user and memberships, never the password hash', async () => {
      const u = await signUp(t, { name: 'Grace' });
      const other = await signUp(t);
      await join(other.team.id, u.user.id, 'member');
      const res = await t.http
        .get('/api/v1/users/me')
        .set('Authorization', bearer(u.accessToken))
        .expect(200);
      expect(res.body).toEqual({
        ...u.user,
        memberships: [
          { teamId: u.team.id, teamName: u.team.name, role: 'owner' },
          { teamId: other.team.id, teamName: other.team.name, role: 'member' },
        ],
      });
      expect(JSON.stringify(res.body)).not.toContain('passwordHash');
    });

    it('401 without a token', async () => {
      await t.http.get('/api/v1/users/me').expect(401);
    });
  });

  describe('PATCH /users/me', () => {
    it('updates the name at once; a normalized new email only becomes pending; records UPDATE_ACCOUNT', async () => {
      const u = await signUp(t);
      const email = uniqueEmail('renamed');
      const res = await t.http
        .patch('/api/v1/users/me')
        .set('Authorization', bearer(u.accessToken))
        .send({ name: ' New Name ', email: ` ${email.toUpperCase()} ` })
        .expect(200);
      // The current address stays in use until the link sent to the new one is used
      // (the whole flow over SMTP: email-verification.e2e-spec.ts).
      expect(res.body).toEqual({
        ...u.user,
        name: 'New Name',
        pendingEmail: email,
        updatedAt: expect.any(String),
      });
      const [row] = await t.db.select().from(users).where(eq(users.id, u.user.id));
      expect(row).toMatchObject({ name: 'New Name', email: u.email, pendingEmail: email });
      expect(
        (await logsOf(u.user.id, 'UPDATE_ACCOUNT')).map((l) => [l.teamId, l.ipAddress]),
      ).toEqual([[u.team.id, '127.0.0.1']]);
      await signIn(t, u.email, u.password);
      await t.http.post('/api/v1/auth/sign-in').send({ email, password: u.password }).expect(401);

      // My current address cancels the pending change.
      const cancel = await t.http
        .patch('/api/v1/users/me')
        .set('Authorization', bearer(u.accessToken))
        .send({ email: u.email })
        .expect(200);
      expect(cancel.body).toMatchObject({ email: u.email, pendingEmail: null });
    });

    it('null clears the name', async () => {
      const u = await signUp(t, { name: 'Someone' });
      const res = await t.http
        .patch('/api/v1/users/me')
        .set('Authorization', bearer(u.accessToken))
        .send({ name: null })
        .expect(200);
      expect(res.body.name).toBeNull();
    });

    it('409 user.email_taken when another account uses the email; nothing changes or is logged', async () => {
      const u = await signUp(t);
      const other = await signUp(t);
      const res = await t.http
        .patch('/api/v1/users/me')
        .set('Authorization', bearer(u.accessToken))
        .send({ email: other.email.toUpperCase() })
        .expect(409);
      expect(res.body).toMatchObject({ statusCode: 409, code: 'user.email_taken' });
      const [row] = await t.db.select().from(users).where(eq(users.id, u.user.id));
      expect(row).toMatchObject({ email: u.email, pendingEmail: null });
      expect(await logsOf(u.user.id, 'UPDATE_ACCOUNT')).toHaveLength(0);
    });

    it.each([
      ['an empty body', {}, 'user.empty_update'],
      ['an invalid email', { email: 'nope' }, 'request.invalid'],
      ['an empty name', { name: '   ' }, 'request.invalid'],
      ['a 101-character name', { name: 'n'.repeat(101) }, 'request.invalid'],
      ['the unknown field role', { role: 'admin' }, 'request.invalid'],
      ['the unknown field passwordHash', { passwordHash: 'x' }, 'request.invalid'],
    ])('400 for %s', async (_name, body, code) => {
      const u = await signUp(t);
      const res = await t.http
        .patch('/api/v1/users/me')
        .set('Authorization', bearer(u.accessToken))
        .send(body)
        .expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, code });
      const [row] = await t.db.select().from(users).where(eq(users.id, u.user.id));
      expect(row).toMatchObject({ role: 'member', email: u.email });
    });
  });

  describe('PUT /users/me/password', () => {
    it('204: new password works, other sessions end, this one lives, UPDATE_PASSWORD recorded', async () => {
      const u = await signUp(t);
      const other = await signIn(t, u.email, u.password);
      await t.http
        .put('/api/v1/users/me/password')
        .set('Authorization', bearer(u.accessToken))
        .send({ currentPassword: u.password, newPassword: 'a brand new password' })
        .expect(204);
      await t.http.get('/api/v1/users/me').set('Authorization', bearer(u.accessToken)).expect(200);
      await t.http
        .get('/api/v1/users/me')
        .set('Authorization', bearer(other.accessToken))
        .expect(401);
      await t.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: other.refreshToken })
        .expect(401);
      await t.http.post('/api/v1/auth/refresh').send({ refreshToken: u.refreshToken }).expect(200);
      await t.http
        .post('/api/v1/auth/sign-in')
        .send({ email: u.email, password: u.password })
        .expect(401);
      await signIn(t, u.email, 'a brand new password');
      const revoked = await t.db
        .select()
        .from(sessions)
        .where(and(eq(sessions.userId, u.user.id), eq(sessions.revokedReason, 'password_changed')));
      expect(revoked.map((s) => s.id)).toEqual([other.refreshToken.split('.')[0]]);
      expect(
        (await logsOf(u.user.id, 'UPDATE_PASSWORD')).map((l) => [l.teamId, l.ipAddress]),
      ).toEqual([[u.team.id, '127.0.0.1']]);
    });

    it('400 auth.wrong_password when the current password is wrong; nothing changes', async () => {
      const u = await signUp(t);
      const res = await t.http
        .put('/api/v1/users/me/password')
        .set('Authorization', bearer(u.accessToken))
        .send({ currentPassword: 'not my password', newPassword: 'a brand new password' })
        .expect(400);
      expect(res.body).toMatchObject({ code: 'auth.wrong_password' });
      await signIn(t, u.email, u.password);
      expect(await logsOf(u.user.id, 'UPDATE_PASSWORD')).toHaveLength(0);
    });

    it.each([
      ['a short new password', { newPassword: 'short' }],
      ['a 129-character new password', { newPassword: 'x'.repeat(129) }],
      ['an unknown field', { newPassword: 'long enough pass', role: 'admin' }],
    ])('400 for %s', async (_name, body) => {
      const u = await signUp(t);
      await t.http
        .put('/api/v1/users/me/password')
        .set('Authorization', bearer(u.accessToken))
        .send({ currentPassword: u.password, ...body })
        .expect(400);
    });
  });

  describe('DELETE /users/me', () => {
    const del = (u: SignedUp, password = u.password) =>
      t.http
        .delete('/api/v1/users/me')
        .set('Authorization', bearer(u.accessToken))
        .send({ password });

    it('soft-deletes: email rewritten, memberships gone, sessions revoked, tokens dead, address free; DELETE_ACCOUNT logged', async () => {
      const u = await signUp(t);
      const second = await signIn(t, u.email, u.password);
      const other = await signUp(t);
      await join(other.team.id, u.user.id, 'member');

      await del(u).expect(204);

      const [row] = await t.db.select().from(users).where(eq(users.id, u.user.id));
      expect(row!.deletedAt).toBeInstanceOf(Date);
      expect(row!.email).toMatch(
        new RegExp(`^deleted\\+${u.user.id}\\+[0-9a-f]{12}@deleted\\.invalid$`),
      );
      expect(
        await t.db.select().from(teamMembers).where(eq(teamMembers.userId, u.user.id)),
      ).toEqual([]);
      const live = await t.db.select().from(sessions).where(eq(sessions.userId, u.user.id));
      expect(live.map((s) => s.revokedReason)).toEqual(['account_deleted', 'account_deleted']);
      for (const token of [u.accessToken, second.accessToken]) {
        await t.http.get('/api/v1/users/me').set('Authorization', bearer(token)).expect(401);
      }
      await t.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: second.refreshToken })
        .expect(401);
      expect(
        (await logsOf(u.user.id, 'DELETE_ACCOUNT')).map((l) => [l.teamId, l.ipAddress]),
      ).toEqual([[u.team.id, '127.0.0.1']]);
      // The team whose only member was the user stays, without members.
      const [team] = await t.db.select().from(teams).where(eq(teams.id, u.team.id));
      expect(team!.id).toBe(u.team.id);
      // The address is free again.
      const again = await signUp(t, { email: u.email });
      expect(again.user.id).not.toBe(u.user.id);
    });

    it('400 auth.wrong_password; nothing changes', async () => {
      const u = await signUp(t);
      const res = await del(u, 'not my password').expect(400);
      expect(res.body).toMatchObject({ code: 'auth.wrong_password' });
      const [row] = await t.db.select().from(users).where(eq(users.id, u.user.id));
      expect(row).toMatchObject({ deletedAt: null, email: u.email });
      await t.http.get('/api/v1/users/me').set('Authorization', bearer(u.accessToken)).expect(200);
    });

    it('400 without a password', async () => {
      const u = await signUp(t);
      await t.http
        .delete('/api/v1/users/me')
        .set('Authorization', bearer(u.accessToken))
        .send({})
        .expect(400);
    });

    it("409 user.last_owner while a team still has other members (the rule's permutations: test/integration/team-rules.int-spec.ts)", async () => {
      const u = await signUp(t);
      const member = await signUp(t);
      await join(u.team.id, member.user.id, 'member');
      const res = await del(u).expect(409);
      expect(res.body).toEqual({
        statusCode: 409,
        error: 'Conflict',
        code: 'user.last_owner',
        message: expect.stringContaining('last owner'),
        details: [{ field: 'teamId', message: String(u.team.id) }],
      });
      const [row] = await t.db.select().from(users).where(eq(users.id, u.user.id));
      expect(row!.deletedAt).toBeNull();
      expect(await logsOf(u.user.id, 'DELETE_ACCOUNT')).toHaveLength(0);
      expect(
        await t.db.select().from(teamMembers).where(eq(teamMembers.userId, u.user.id)),
      ).toHaveLength(1);
    });
  });
});
