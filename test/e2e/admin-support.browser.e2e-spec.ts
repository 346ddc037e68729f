import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import argon2 from 'argon2';
import { and, eq } from 'drizzle-orm';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import { ActivityType, activityLogs, teams, users } from '../../src/database/schema.js';
import { browserTestsRun, launchChromium, type LaunchedChromium } from '../support/chromium.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, signUp, signUpVerified, type SignedUp } from '../support/auth.js';
import { TOTP } from 'otpauth';

/**
 * A support user in a real browser (Debian's Chromium driven by playwright-core), set up like
 * admin.browser.e2e-spec.ts: without Chromium the suite skips (locally) or fails (CI=true).
 */
const describeBrowser = browserTestsRun('admin-support.browser') ? describe : describe.skip;

describeBrowser('admin panel in Chromium: a read-only support user', () => {
  let t: TestApp;
  let baseUrl: string;
  let browser: LaunchedChromium | undefined;
  let context: BrowserContext;
  let page: Page;
  let owner: SignedUp;
  const support = { email: uniqueEmail('support'), password: 'support-password-1' };

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
    owner = await signUp(t, { name: 'Support Browser Owner' });
    const passwordHash = await argon2.hash(support.password, {
      type: argon2.argon2id,
      memoryCost: 19_456,
      timeCost: 2,
      parallelism: 1,
    });
    await t.db
      .insert(users)
      .values({ email: support.email, passwordHash, role: 'support', name: 'Support Desk' });
    browser = await launchChromium();
    context = browser.context;
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('signs in, opens lists and a record, and every write is absent or refused', async () => {
    await page.goto(`${baseUrl}/admin`);
    await page.waitForURL(`${baseUrl}/admin/login`);
    await page.locator('input[name="email"]').fill(support.email);
    await page.locator('input[name="password"]').fill(support.password);
    await page.locator('form[action="/admin/login"] button').click();
    await page.waitForURL(`${baseUrl}/admin`);
    await page.getByText('Teams with a live subscription').waitFor();

    // The users list and the teams list, from the sidebar.
    await page.getByText('People', { exact: true }).first().click();
    await page.locator('a[href="/admin/resources/users"]').first().click();
    await page.waitForURL(/\/admin\/resources\/users(\?|$)/);
    await page.locator('tr', { hasText: owner.email }).first().waitFor();
    // No "Create new" on a list for support.
    expect(await page.locator('a[href="/admin/resources/users/actions/new"]').count()).toBe(0);

    await page.getByText('Teams', { exact: true }).first().click();
    await page.locator('a[href="/admin/resources/teams"]').first().click();
    await page.waitForURL(/\/admin\/resources\/teams(\?|$)/);
    const row = page.locator('tr', { hasText: owner.team.name }).first();
    await row.waitFor();

    // A record: shown, with no edit/delete (or any other write) offered.
    await row.getByText(owner.team.name).click();
    await page.waitForURL(`${baseUrl}/admin/resources/teams/records/${owner.team.id}/show`);
    await page.getByText(owner.team.name).first().waitFor();
    const recordPath = `/admin/resources/teams/records/${owner.team.id}`;
    expect(await page.locator(`a[href="${recordPath}/edit"]`).count()).toBe(0);
    expect(await page.locator(`a[href="${recordPath}/delete"]`).count()).toBe(0);

    // The user's record: none of the admin's actions (set password, support actions).
    await page.goto(`${baseUrl}/admin/resources/users/records/${owner.user.id}/show`);
    await page.getByText(owner.email).first().waitFor();
    for (const action of ['edit', 'delete', 'setPassword', 'revokeSessions', 'disableMfa']) {
      expect(
        await page
          .locator(`a[href="/admin/resources/users/records/${owner.user.id}/${action}"]`)
          .count(),
      ).toBe(0);
    }

    // Typing the edit page's address: refused by the server.
    const editPage = await page.goto(`${baseUrl}${recordPath}/edit`);
    expect(editPage?.status()).toBe(403);

    // A direct POST to the edit action with the browser's own session cookie and origin.
    const post = await page.evaluate(
      async ({ url }) => {
        const body = new FormData();
        body.set('name', 'Renamed by support');
        const res = await fetch(url, { method: 'POST', body, credentials: 'same-origin' });
        return { status: res.status, body: (await res.json()) as { code?: string } };
      },
      { url: `${baseUrl}/admin/api/resources/teams/records/${owner.team.id}/edit` },
    );
    expect(post).toEqual({
      status: 403,
      body: expect.objectContaining({ code: 'admin.read_only' }),
    });
    const [team] = await t.db.select().from(teams).where(eq(teams.id, owner.team.id));
    expect(team!.name).toBe(owner.team.name);
  }, 90_000);

  it('an admin disables a user\'s MFA with the "Disable MFA" form (custom component), reason logged', async () => {
    const target = await signUpVerified(t);
    const started = await t.http
      .post('/api/v1/users/me/mfa/totp')
      .set('Authorization', bearer(target.accessToken))
      .send({ password: target.password })
      .expect(200);
    const secret = (started.body as { secret: string }).secret;
    await t.http
      .post('/api/v1/users/me/mfa/totp/confirm')
      .set('Authorization', bearer(target.accessToken))
      .send({ code: new TOTP({ secret }).generate({ timestamp: Date.now() - 30_000 }) })
      .expect(200);

    await context.clearCookies();
    await page.goto(`${baseUrl}/admin/login`);
    await page.locator('input[name="email"]').fill('admin@test.com');
    await page.locator('input[name="password"]').fill('admin123');
    await page.locator('form[action="/admin/login"] button').click();
    await page.waitForURL(`${baseUrl}/admin`);

    await page.goto(`${baseUrl}/admin/resources/users/records/${target.user.id}/disableMfa`);
    const reason = 'Lost phone; identity checked by a call-back to the number on file';
    await page.locator('textarea#disable-mfa-reason').fill(reason);
    await page.getByRole('button', { name: 'Disable MFA' }).click();
    await page.getByText('Two-factor sign-in disabled').first().waitFor();

    const [row] = await t.db.select().from(users).where(eq(users.id, target.user.id));
    expect(row!.mfaEnabledAt).toBeNull();
    const [log] = await t.db
      .select()
      .from(activityLogs)
      .where(
        and(
          eq(activityLogs.teamId, target.team.id),
          eq(activityLogs.action, ActivityType.ADMIN_DISABLE_MFA),
        ),
      );
    expect(log).toMatchObject({ reason, ipAddress: '127.0.0.1' });
  }, 90_000);
});
