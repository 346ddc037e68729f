import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { JwtService } from '@nestjs/jwt';
import { eq } from 'drizzle-orm';
import { createHash } from 'node:crypto';
import { sessions, teamMembers, teams, users } from '../../src/database/schema.js';
import { activityRows } from '../support/activity.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, DEFAULT_PASSWORD, signIn, signUp } from '../support/auth.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('auth', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  const me = (token: string) => t.http.get('/api/v1/users/me').set('Authorization', bearer(token));

  describe('POST /auth/sign-up', () => {
    it('creates user, own team, owner membership, session and SIGN_UP + CREATE_TEAM rows', async () => {
      const email = uniqueEmail('signup');
      const res = await t.http
        .post('/api/v1/auth/sign-up')
        .send({ email: `  ${email.toUpperCase()} `, password: DEFAULT_PASSWORD, name: ' Ada ' })
        .expect(201);
      expect(res.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.stringMatching(/^[0-9a-f-]{36}\.[\w-]{43}$/),
        tokenType: 'Bearer',
        expiresIn: 900,
        user: {
          id: expect.any(Number),
          name: 'Ada',
          email,
          role: 'member',
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
          // Not verified until the emailed link is used (email-verification.e2e-spec.ts).
          emailVerified: false,
          pendingEmail: null,
          mfaEnabled: false,
          // No locale and no Accept-Language (i18n.e2e-spec.ts covers the others).
          locale: 'en',
        },
        team: { id: expect.any(Number), name: `${email}'s Team`, role: 'owner' },
      });
      expect(JSON.stringify(res.body)).not.toMatch(/passwordHash|argon2/);

      const userId = res.body.user.id as number;
      const teamId = res.body.team.id as number;
      const [user] = await t.db.select().from(users).where(eq(users.id, userId));
      expect(user).toMatchObject({ email, name: 'Ada', role: 'member', deletedAt: null });
      expect(user!.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      const [team] = await t.db.select().from(teams).where(eq(teams.id, teamId));
      expect(team!.name).toBe(`${email}'s Team`);
      const members = await t.db.select().from(teamMembers).where(eq(teamMembers.teamId, teamId));
      expect(members.map((m) => [m.userId, m.role])).toEqual([[userId, 'owner']]);
      const logs = await activityRows(t.db, { userId });
      expect(logs.map((l) => [l.action, l.teamId, l.ipAddress])).toEqual([
        ['SIGN_UP', teamId, '127.0.0.1'],
        ['CREATE_TEAM', teamId, '127.0.0.1'],
      ]);
      const [sessionId, secret] = (res.body.refreshToken as string).split('.');
      const [session] = await t.db.select().from(sessions).where(eq(sessions.id, sessionId!));
      expect(session).toMatchObject({ userId, revokedAt: null, refreshTokenHash: sha256(secret!) });
      await me(res.body.accessToken).expect(200);
    });

    it('409 user.email_taken for an address in use, whatever its case', async () => {
      const { email } = await signUp(t);
      const res = await t.http
        .post('/api/v1/auth/sign-up')
        .send({ email: email.toUpperCase(), password: DEFAULT_PASSWORD })
        .expect(409);
      expect(res.body).toEqual({
        statusCode: 409,
        error: 'Conflict',
        code: 'user.email_taken',
        message: 'This email address is already in use',
      });
      expect(await t.db.select().from(users).where(eq(users.email, email))).toHaveLength(1);
    });

    it('two concurrent sign-ups with one address: one 201, one 409, one user and one team', async () => {
      const email = uniqueEmail('race');
      const results = await Promise.all(
        [1, 2].map(() =>
          t.http.post('/api/v1/auth/sign-up').send({ email, password: DEFAULT_PASSWORD }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
      expect(await t.db.select().from(users).where(eq(users.email, email))).toHaveLength(1);
      expect(
        await t.db
          .select()
          .from(teams)
          .where(eq(teams.name, `${email}'s Team`)),
      ).toHaveLength(1);
    });

    it.each([
      ['no body', {}, ['email', 'password']],
      ['an invalid email', { email: 'nope', password: DEFAULT_PASSWORD }, ['email']],
      ['a 7-character password', { email: 'a@b.test', password: '1234567' }, ['password']],
      ['a 129-character password', { email: 'a@b.test', password: 'x'.repeat(129) }, ['password']],
      ['a non-string password', { email: 'a@b.test', password: 12345678 }, ['password']],
      [
        'an unknown field role',
        { email: 'a@b.test', password: DEFAULT_PASSWORD, role: 'admin' },
        ['role'],
      ],
      [
        'an unknown field passwordHash',
        { email: 'a@b.test', password: DEFAULT_PASSWORD, passwordHash: 'x' },
        ['passwordHash'],
      ],
    ])('400 for %s, listing the fields, creating nothing', async (_name, body, fields) => {
      const res = await t.http.post('/api/v1/auth/sign-up').send(body).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, code: 'request.invalid' });
      expect([...new Set((res.body.details as { field: string }[]).map((d) => d.field))]).toEqual(
        fields,
      );
      expect(await t.db.select().from(users).where(eq(users.email, 'a@b.test'))).toHaveLength(0);
    });

    it('accepts a 128-character password, which then signs in', async () => {
      const u = await signUp(t, { password: 'p'.repeat(128) });
      const signedIn = await signIn(t, u.email, 'p'.repeat(128));
      expect(signedIn.user.id).toBe(u.user.id);
    });

    it('400 invitation.invalid_token for an invite token it cannot redeem, creating nothing', async () => {
      const email = uniqueEmail('invite');
      const res = await t.http
        .post('/api/v1/auth/sign-up')
        .send({ email, password: DEFAULT_PASSWORD, inviteToken: 'not-a-real-token' })
        .expect(400);
      expect(res.body).toMatchObject({ code: 'invitation.invalid_token' });
      expect(await t.db.select().from(users).where(eq(users.email, email))).toHaveLength(0);
    });
  });

  describe('POST /auth/sign-in', () => {
    it('200 with tokens and user, opens a session and records SIGN_IN against the first team', async () => {
      const u = await signUp(t);
      const res = await t.http
        .post('/api/v1/auth/sign-in')
        .send({ email: ` ${u.email.toUpperCase()}`, password: u.password })
        .expect(200);
      expect(res.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
        user: u.user,
      });
      expect(res.body.refreshToken).not.toBe(u.refreshToken);
      const open = await t.db.select().from(sessions).where(eq(sessions.userId, u.user.id));
      expect(open).toHaveLength(2);
      const logs = await activityRows(t.db, { userId: u.user.id, action: 'SIGN_IN' });
      expect(logs.map((l) => [l.teamId, l.ipAddress])).toEqual([[u.team.id, '127.0.0.1']]);
    });

    it('the same 401 for an unknown email, a wrong password and a deleted account', async () => {
      const u = await signUp(t);
      const deleted = await signUp(t);
      await t.http
        .delete('/api/v1/users/me')
        .set('Authorization', bearer(deleted.accessToken))
        .send({ password: deleted.password })
        .expect(204);
      const attempts = await Promise.all([
        t.http
          .post('/api/v1/auth/sign-in')
          .send({ email: uniqueEmail('nobody'), password: DEFAULT_PASSWORD }),
        t.http.post('/api/v1/auth/sign-in').send({ email: u.email, password: 'wrong password!' }),
        t.http
          .post('/api/v1/auth/sign-in')
          .send({ email: deleted.email, password: deleted.password }),
      ]);
      for (const res of attempts) {
        expect({ status: res.status, body: res.body }).toEqual({
          status: 401,
          body: {
            statusCode: 401,
            error: 'Unauthorized',
            code: 'auth.invalid_credentials',
            message: 'Invalid email or password',
          },
        });
      }
      const logs = await activityRows(t.db, { userId: u.user.id, action: 'SIGN_IN' });
      expect(logs).toHaveLength(0);
    });

    it('400 for a password over 128 characters (never hashed) and for unknown fields', async () => {
      const u = await signUp(t);
      await t.http
        .post('/api/v1/auth/sign-in')
        .send({ email: u.email, password: 'x'.repeat(129) })
        .expect(400);
      const res = await t.http
        .post('/api/v1/auth/sign-in')
        .send({ email: u.email, password: u.password, role: 'admin' })
        .expect(400);
      expect(res.body.details).toEqual([
        { field: 'role', message: 'property role should not exist' },
      ]);
    });
  });

  describe('access tokens', () => {
    let u: Awaited<ReturnType<typeof signUp>>;
    let claims: { sub: string; sid: string; iss: string; aud: string; iat: number; exp: number };

    beforeAll(async () => {
      u = await signUp(t);
      const [header, payload] = u.accessToken.split('.');
      expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({
        alg: 'HS256',
        typ: 'JWT',
      });
      claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    });

    const forge = (payload: object, secret = t.config.jwt.secret) =>
      new JwtService({ secret }).sign(payload as Record<string, unknown>, { algorithm: 'HS256' });

    it('carries sub, sid, iss, aud, iat and exp = iat + JWT_ACCESS_TTL', () => {
      expect(claims).toEqual({
        sub: String(u.user.id),
        sid: u.refreshToken.split('.')[0],
        iss: 'nest-saas',
        aud: 'nest-saas-api',
        iat: expect.any(Number),
        exp: claims.iat + t.config.jwt.accessTtlSeconds,
      });
    });

    it('a token signed like ours is accepted (control for the cases below)', async () => {
      await me(forge(claims)).expect(200);
    });

    it.each([
      ['no Authorization header', undefined],
      ['a non-bearer scheme', 'Basic abc'],
      ['garbage', 'Bearer not.a.jwt'],
    ])('401 with %s', async (_name, header) => {
      const req = t.http.get('/api/v1/users/me');
      if (header) void req.set('Authorization', header);
      const res = await req.expect(401);
      expect(res.body).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        code: 'auth.unauthorized',
        message: 'Missing, invalid, expired or revoked access token',
      });
    });

    it('401 for a tampered payload (sub changed, signature kept)', async () => {
      const [h, , s] = u.accessToken.split('.');
      await me(`${h}.${b64({ ...claims, sub: '1' })}.${s}`).expect(401);
    });

    it('401 for alg: none', async () => {
      await me(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`).expect(401);
    });

    it('401 for another HMAC algorithm (HS512) with our key', async () => {
      const token = new JwtService({ secret: t.config.jwt.secret }).sign(claims, {
        algorithm: 'HS512',
      });
      await me(token).expect(401);
    });

    it('401 for a wrong audience, a wrong issuer, a wrong key', async () => {
      await me(forge({ ...claims, aud: 'someone-else' })).expect(401);
      await me(forge({ ...claims, iss: 'someone-else' })).expect(401);
      await me(forge(claims, 'another-secret-that-is-long-enough-0123456789')).expect(401);
    });

    it('401 when expired', async () => {
      const now = Math.floor(Date.now() / 1000);
      await me(forge({ ...claims, iat: now - 1000, exp: now - 10 })).expect(401);
    });

    it('401 when sid is not a uuid, unknown, or belongs to another user', async () => {
      const other = await signUp(t);
      await me(forge({ ...claims, sid: 'x' })).expect(401);
      await me(forge({ ...claims, sid: '00000000-0000-4000-8000-000000000000' })).expect(401);
      await me(forge({ ...claims, sid: other.refreshToken.split('.')[0] })).expect(401);
      await me(forge({ ...claims, sub: 'abc' })).expect(401);
    });
  });

  describe('POST /auth/refresh', () => {
    it('rotates: the new pair works and replaces the stored hash in the same session', async () => {
      const u = await signUp(t);
      const res = await t.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: u.refreshToken })
        .expect(200);
      expect(res.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
      });
      expect(res.body.refreshToken.split('.')[0]).toBe(u.refreshToken.split('.')[0]);
      expect(res.body.refreshToken).not.toBe(u.refreshToken);
      await me(res.body.accessToken).expect(200);
      const [session] = await t.db
        .select()
        .from(sessions)
        .where(eq(sessions.id, u.refreshToken.split('.')[0]!));
      expect(session!.refreshTokenHash).toBe(sha256(res.body.refreshToken.split('.')[1]));
    });

    it('reuse of a rotated token revokes the whole session', async () => {
      const u = await signUp(t);
      const rotated = await t.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: u.refreshToken })
        .expect(200);
      const res = await t.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: u.refreshToken })
        .expect(401);
      expect(res.body).toMatchObject({ code: 'auth.invalid_refresh_token' });
      // The thief's replay also ends the legitimate holder's tokens.
      await t.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: rotated.body.refreshToken })
        .expect(401);
      await me(rotated.body.accessToken).expect(401);
      const [session] = await t.db
        .select()
        .from(sessions)
        .where(eq(sessions.id, u.refreshToken.split('.')[0]!));
      expect(session).toMatchObject({ revokedReason: 'refresh_token_reuse' });
      expect(session!.revokedAt).toBeInstanceOf(Date);
    });

    it.each([
      ['garbage', 'garbage'],
      ['an unknown session', '00000000-0000-4000-8000-000000000000.' + 'a'.repeat(43)],
    ])('401 for %s', async (_name, refreshToken) => {
      const res = await t.http.post('/api/v1/auth/refresh').send({ refreshToken }).expect(401);
      expect(res.body).toMatchObject({ statusCode: 401, code: 'auth.invalid_refresh_token' });
    });

    it('401 for an expired session', async () => {
      const u = await signUp(t);
      await t.db
        .update(sessions)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(sessions.id, u.refreshToken.split('.')[0]!));
      await t.http.post('/api/v1/auth/refresh').send({ refreshToken: u.refreshToken }).expect(401);
      await me(u.accessToken).expect(401);
    });

    it('400 without a refresh token', async () => {
      await t.http.post('/api/v1/auth/refresh').send({}).expect(400);
    });
  });

  describe('POST /auth/sign-out', () => {
    it("204; the session's access and refresh tokens stop at once; other sessions live on; SIGN_OUT recorded", async () => {
      const u = await signUp(t);
      const other = await signIn(t, u.email, u.password);
      await t.http
        .post('/api/v1/auth/sign-out')
        .set('Authorization', bearer(u.accessToken))
        .set('X-Forwarded-For', '198.51.100.1')
        .expect(204);
      await me(u.accessToken).expect(401);
      await t.http.post('/api/v1/auth/refresh').send({ refreshToken: u.refreshToken }).expect(401);
      await me(other.accessToken).expect(200);
      const logs = await activityRows(t.db, { userId: u.user.id, action: 'SIGN_OUT' });
      // TRUST_PROXY is off here: X-Forwarded-For is ignored.
      expect(logs.map((l) => [l.teamId, l.ipAddress])).toEqual([[u.team.id, '127.0.0.1']]);
    });

    it('401 without a token', async () => {
      await t.http.post('/api/v1/auth/sign-out').expect(401);
    });
  });
});
