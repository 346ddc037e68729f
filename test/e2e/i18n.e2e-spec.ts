import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import { users } from '../../src/database/schema.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, DEFAULT_PASSWORD, markEmailVerified, type SignedUp } from '../support/auth.js';
import { startSmtpCapture, type SmtpCapture } from '../support/smtp.js';

/**
 * API.md v1.2 "Language of mails and messages": the account's locale (sign-up, GET/PATCH
 * /users/me), mails in the recipient's language over real SMTP, error messages in the
 * request's language with the code unchanged.
 */
describe('language of mails and messages (e2e)', () => {
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

  async function signUpWith(
    headers: Record<string, string>,
    extra: Record<string, string> = {},
  ): Promise<SignedUp> {
    const email = uniqueEmail('lang');
    const req = t.http.post('/api/v1/auth/sign-up');
    for (const [name, value] of Object.entries(headers)) void req.set(name, value);
    const res = await req.send({ email, password: DEFAULT_PASSWORD, ...extra });
    expect(res.status).toBe(201);
    return {
      ...(res.body as Omit<SignedUp, 'email' | 'password'>),
      email,
      password: DEFAULT_PASSWORD,
    };
  }

  const me = (u: SignedUp) =>
    t.http.get('/api/v1/users/me').set('Authorization', bearer(u.accessToken));

  const storedLocale = async (id: number) =>
    (await t.db.select({ locale: users.locale }).from(users).where(eq(users.id, id)))[0]?.locale;

  describe('the account locale', () => {
    it('comes from Accept-Language at sign-up, best supported match with q-values', async () => {
      const u = await signUpWith({ 'Accept-Language': 'es;q=1, de-AT;q=0.9, fr;q=0.5' });
      expect((u.user as { locale?: string }).locale).toBe('de');
      expect((await me(u)).body).toMatchObject({ locale: 'de' });
      expect(await storedLocale(u.user.id)).toBe('de');
    });

    it('is the body `locale` when given, whatever the header says', async () => {
      const u = await signUpWith({ 'Accept-Language': 'de' }, { locale: 'fr' });
      expect((await me(u)).body).toMatchObject({ locale: 'fr' });
    });

    it('is English without a header or with none of ours', async () => {
      expect((await me(await signUpWith({}))).body).toMatchObject({ locale: 'en' });
      expect((await me(await signUpWith({ 'Accept-Language': 'ja, es' }))).body).toMatchObject({
        locale: 'en',
      });
    });

    it('refuses an unsupported locale at sign-up with 400 and creates nothing', async () => {
      const email = uniqueEmail('lang-bad');
      const res = await t.http
        .post('/api/v1/auth/sign-up')
        .send({ email, password: DEFAULT_PASSWORD, locale: 'es' });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        statusCode: 400,
        code: 'request.invalid',
        details: [expect.objectContaining({ field: 'locale' })],
      });
      expect(await t.db.select().from(users).where(eq(users.email, email))).toEqual([]);
    });

    it('PATCH /users/me changes it; an unsupported one is 400 and changes nothing', async () => {
      const u = await signUpWith({ 'Accept-Language': 'de' });
      for (const locale of ['es', 'de-AT', '', 'EN', 42, null]) {
        const res = await t.http
          .patch('/api/v1/users/me')
          .set('Authorization', bearer(u.accessToken))
          .send({ locale });
        expect({ locale, status: res.status }).toEqual({ locale, status: 400 });
        expect(res.body).toMatchObject({
          statusCode: 400,
          error: 'Bad Request',
          code: 'request.invalid',
          details: [expect.objectContaining({ field: 'locale' })],
        });
      }
      expect(await storedLocale(u.user.id)).toBe('de');
      const ok = await t.http
        .patch('/api/v1/users/me')
        .set('Authorization', bearer(u.accessToken))
        .send({ locale: 'fr' });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ locale: 'fr', email: u.email });
      expect((await me(u)).body).toMatchObject({ locale: 'fr' });
    });
  });

  describe('mails', () => {
    it('sign-up with Accept-Language: de sends the verification mail in German', async () => {
      const u = await signUpWith({ 'Accept-Language': 'de' });
      const mail = await smtp.waitForMail(u.email);
      expect(mail.subject).toBe('Bestätigen Sie Ihre E-Mail-Adresse');
      expect(mail.text).toContain('Bitte bestätigen Sie, dass dies Ihre E-Mail-Adresse ist.');
      expect(mail.text).toMatch(
        /Adresse bestätigen \(24 Stunden lang einmal gültig\): https:\/\/app\.example\.test\/verify-email\?token=/,
      );
      expect(mail.html).toContain('<a href="https://app.example.test/verify-email?token=');
    });

    it('after PATCH locale fr the next mails are French (reset, change of address)', async () => {
      const u = await signUpWith({ 'Accept-Language': 'de' });
      await smtp.waitForMail(u.email, { subject: 'Bestätigen' });
      await t.http
        .patch('/api/v1/users/me')
        .set('Authorization', bearer(u.accessToken))
        .send({ locale: 'fr' })
        .expect(200);
      await t.http.post('/api/v1/auth/password-reset').send({ email: u.email }).expect(202);
      const reset = await smtp.waitForMail(u.email, { subject: 'mot de passe' });
      expect(reset.subject).toBe('Réinitialisez votre mot de passe');
      expect(reset.text).toMatch(
        /Choisir un nouveau mot de passe \(valable 1 heure, une seule fois\): https:\/\/app\.example\.test\/reset-password\?token=/,
      );

      // One request changing the language and the address: both mails in the new language.
      const newEmail = uniqueEmail('lang-new');
      await t.http
        .patch('/api/v1/users/me')
        .set('Authorization', bearer(u.accessToken))
        .send({ locale: 'de', email: newEmail })
        .expect(200);
      const confirm = await smtp.waitForMail(newEmail);
      expect(confirm.subject).toBe('Bestätigen Sie Ihre neue E-Mail-Adresse');
      const notice = await smtp.waitForMail(u.email, { subject: 'wird geändert' });
      expect(notice.text).toContain(`E-Mail-Adresse in ${newEmail} zu ändern`);
    });

    async function verifiedInviter(locale: string, name: string): Promise<SignedUp> {
      const u = await signUpWith({}, { locale, name });
      await markEmailVerified(t, u.user.id);
      return u;
    }

    const invite = (owner: SignedUp, email: string) =>
      t.http
        .post(`/api/v1/teams/${owner.team.id}/invitations`)
        .set('Authorization', bearer(owner.accessToken))
        .set('Accept-Language', 'en')
        .send({ email, role: 'member' })
        .expect(201);

    it("an invitation to an address without an account is in the inviter's language", async () => {
      const owner = await verifiedInviter('fr', 'Camille');
      const email = uniqueEmail('lang-invitee');
      await invite(owner, email);
      const mail = await smtp.waitForMail(email);
      expect(mail.subject).toBe(
        `Camille vous invite à rejoindre ${owner.team.name.replace(/\./g, '[.]')}`,
      );
      expect(mail.text).toContain('en tant que membre.');
      expect(mail.text).toMatch(
        /Accepter l’invitation \(valable jusqu’au \d{4}-\d\d-\d\dT[\d:.]+Z\): https:\/\/app\.example\.test\/invitations\/accept\?token=/,
      );
    });

    it("an invitation to an existing account is in the invitee's language", async () => {
      const owner = await verifiedInviter('fr', 'Camille');
      const invitee = await signUpWith({ 'Accept-Language': 'de' });
      await invite(owner, invitee.email);
      const mail = await smtp.waitForMail(invitee.email, { subject: 'eingeladen' });
      expect(mail.subject).toMatch(/^Camille hat Sie eingeladen, .+ beizutreten$/);
      expect(mail.text).toContain('als Mitglied beizutreten.');
    });
  });

  describe('error messages', () => {
    it('follow Accept-Language with the code unchanged', async () => {
      const body = { email: uniqueEmail('nobody'), password: 'wrong password 123' };
      const en = await t.http.post('/api/v1/auth/sign-in').send(body);
      const fr = await t.http
        .post('/api/v1/auth/sign-in')
        .set('Accept-Language', 'fr-CH, en;q=0.5')
        .send(body);
      expect(en.body).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        code: 'auth.invalid_credentials',
        message: 'Invalid email or password',
      });
      expect(fr.body).toEqual({ ...en.body, message: 'Adresse e-mail ou mot de passe incorrect' });
    });

    it('reach errors raised before any controller: 401, unknown route, malformed JSON', async () => {
      const unauth = await t.http.get('/api/v1/users/me').set('Accept-Language', 'de');
      expect([unauth.status, unauth.body.code, unauth.body.message]).toEqual([
        401,
        'auth.unauthorized',
        'Zugriffstoken fehlt, ist ungültig, abgelaufen oder widerrufen',
      ]);
      const missing = await t.http.get('/api/v1/no-such-route').set('Accept-Language', 'fr');
      expect([missing.status, missing.body.code, missing.body.message]).toEqual([
        404,
        'route.not_found',
        'Introuvable',
      ]);
      const malformed = await t.http
        .post('/api/v1/auth/sign-in')
        .set('Accept-Language', 'de')
        .set('Content-Type', 'application/json')
        .send('{"email":');
      expect([malformed.status, malformed.body.code, malformed.body.message]).toEqual([
        400,
        'request.malformed_json',
        'Der Anfrageinhalt ist kein gültiges JSON',
      ]);
    });

    it("without a supported Accept-Language, the signed-in user's locale; the header wins", async () => {
      const u = await signUpWith({}, { locale: 'de' });
      const path = `/api/v1/users/me/sessions/${randomUUID()}`;
      const mine = await t.http.delete(path).set('Authorization', bearer(u.accessToken));
      expect([mine.status, mine.body.code, mine.body.message]).toEqual([
        404,
        'session.not_found',
        'Keine solche Sitzung von Ihnen',
      ]);
      const other = await t.http
        .delete(path)
        .set('Authorization', bearer(u.accessToken))
        .set('Accept-Language', 'es, fr;q=0.2');
      expect([other.body.code, other.body.message]).toEqual([
        'session.not_found',
        'Aucune session de ce type parmi les vôtres',
      ]);
      const unknown = await t.http
        .delete(path)
        .set('Authorization', bearer(u.accessToken))
        .set('Accept-Language', 'es');
      expect(unknown.body.message).toBe('Keine solche Sitzung von Ihnen');
    });
  });
});
