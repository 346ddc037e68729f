import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import { and, desc, eq, sql } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { ActivityType, activityLogs, sessions, users } from '../../src/database/schema.js';
import { createStaff } from '../support/admin-panel.js';
import { browserTestsRun, launchChromium, type LaunchedChromium } from '../support/chromium.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, signIn, signUp, type SignedUp } from '../support/auth.js';

interface CanvasLike {
  width: number;
  height: number;
  dataset: Record<string, string | undefined>;
  getContext(type: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
  } | null;
}

/**
 * The admin panel in a real browser: Debian's Chromium driven by playwright-core.
 * Without Chromium the suite skips (locally) or fails (CI=true), saying how to install it.
 */
const describeBrowser = browserTestsRun('admin.browser') ? describe : describe.skip;

describeBrowser('admin panel in Chromium', () => {
  let t: TestApp;
  let baseUrl: string;
  let browser: LaunchedChromium | undefined;
  let context: BrowserContext;
  let page: Page;
  /** Kept after the run (like a CI artifact): the dashboard screenshot and the export. */
  let artifactsDir: string;
  let owner: SignedUp;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
    owner = await signUp(t, { name: 'Browser Owner' });
    artifactsDir = await mkdtemp(join(tmpdir(), 'nest-saas-admin-browser-'));
    browser = await launchChromium({ acceptDownloads: true });
    context = browser.context;
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function signInAs(email: string, password: string): Promise<void> {
    await page.goto(`${baseUrl}/admin`);
    await page.waitForURL(`${baseUrl}/admin/login`);
    await page.locator('input[name="email"]').fill(email);
    await page.locator('input[name="password"]').fill(password);
    await page.locator('form[action="/admin/login"] button').click();
  }

  it('shows the login error to a team owner who is not an admin', async () => {
    await signInAs(owner.email, owner.password);
    await page.getByText('Wrong email and/or password').waitFor();
    expect(page.url()).toBe(`${baseUrl}/admin/login`);
  }, 30_000);

  it('lets the admin sign in, open the teams list and rename a team; the API sees the change', async () => {
    await signInAs('admin@test.com', 'admin123');
    await page.waitForURL(`${baseUrl}/admin`);
    // The back-office dashboard (a custom component from the prebuilt bundle).
    await page.getByText('Teams with a live subscription').waitFor();

    // The teams list, from the sidebar: open the "Teams" group, then its Teams entry.
    await page.getByText('Teams', { exact: true }).first().click();
    await page.locator('a[href="/admin/resources/teams"]').first().click();
    await page.waitForURL(/\/admin\/resources\/teams(\?|$)/);
    const row = page.locator('tr', { hasText: owner.team.name }).first();
    await row.waitFor();

    // The team's record, then its edit form.
    await row.getByText(owner.team.name).click();
    await page.waitForURL(`${baseUrl}/admin/resources/teams/records/${owner.team.id}/show`);
    await page
      .locator(`a[href="/admin/resources/teams/records/${owner.team.id}/edit"]`)
      .first()
      .click();
    await page.waitForURL(`${baseUrl}/admin/resources/teams/records/${owner.team.id}/edit`);
    const name = page.locator('input[name="name"]');
    await name.fill('Renamed in Chromium');
    await page.locator('button[type="submit"]').click();
    await page.waitForURL(
      new RegExp(`/admin/resources/teams/records/${owner.team.id}/show(\\?refresh=true)?$`),
    );
    await page.getByText('Renamed in Chromium').first().waitFor();

    const res = await t.http
      .get(`/api/v1/teams/${owner.team.id}`)
      .set('Authorization', bearer(owner.accessToken))
      .expect(200);
    expect(res.body.name).toBe('Renamed in Chromium');

    const admin = await t.db.query.users.findFirst({ where: eq(users.email, 'admin@test.com') });
    const [log] = await t.db
      .select()
      .from(activityLogs)
      .where(
        and(
          eq(activityLogs.teamId, owner.team.id),
          eq(activityLogs.action, ActivityType.ADMIN_UPDATE_TEAM),
        ),
      )
      .orderBy(desc(activityLogs.id))
      .limit(1);
    expect(log).toMatchObject({ userId: admin!.id, ipAddress: '127.0.0.1' });
  }, 60_000);

  it('sets a password with the custom "Set password" action (custom component bundle)', async () => {
    const target = await signUp(t);
    await page.goto(`${baseUrl}/admin/resources/users/records/${target.user.id}/setPassword`);
    const input = page.locator('input#new-password');
    await input.fill('set-in-the-browser');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByText('Password set; every session of this user was revoked').first().waitFor();

    const open = await t.db.select().from(sessions).where(eq(sessions.userId, target.user.id));
    expect(open.every((s) => s.revokedAt !== null)).toBe(true);
    await signIn(t, target.email, 'set-in-the-browser');
  }, 60_000);

  it('renders the dashboard charts with data from the database, screenshot kept', async () => {
    // Rows for every chart (the shared test database has sign-ups and teams already).
    await t.db.execute(sql`update teams set plan_name = 'Pro', subscription_status = 'active'
      where id = ${owner.team.id}`);
    await t.db.execute(sql`insert into activity_logs (team_id, user_id, action)
      values (${owner.team.id}, ${owner.user.id}, 'SIGN_IN')`);
    await t.db.execute(sql`insert into invitations (team_id, email, role, invited_by, status)
      values (${owner.team.id}, ${`chart-${randomBytes(4).toString('hex')}@example.test`},
              'member', ${owner.user.id}, 'accepted')`);
    const endpoint = await t.db.execute<{ id: number }>(sql`
      insert into webhook_endpoints (team_id, url, events, secret)
      values (${owner.team.id}, 'https://hooks.example.test/x', '{member.added}', 'sealed')
      returning id`);
    const eventId = `evt_chart${randomBytes(6).toString('hex')}`;
    await t.db.execute(sql`insert into webhook_events (id, team_id, type, payload)
      values (${eventId}, ${owner.team.id}, 'member.added', '{}')`);
    await t.db.execute(sql`insert into webhook_deliveries (endpoint_id, event_id, status)
      values (${endpoint.rows[0]!.id}, ${eventId}, 'failed')`);
    await t.db.execute(
      sql.raw(`insert into "${t.config.jobs.schema}".job (name, data, state)
               values ('mail.send', '{}', 'completed')`),
    );

    await page.goto(`${baseUrl}/admin`);
    const names = [
      'signups-active-teams',
      'teams-by-plan',
      'teams-by-status',
      'invitations',
      'failed-deliveries',
      'jobs',
    ];
    for (const name of names) {
      await page.locator(`canvas[data-testid="chart-${name}"][data-ready="true"]`).waitFor();
    }
    const charts = [];
    for (const name of names) {
      const drawn = await page
        .locator(`canvas[data-testid="chart-${name}"]`)
        .evaluate((element) => {
          // The test project has no DOM typings: the canvas as far as this check needs it.
          const canvas = element as unknown as CanvasLike;
          const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
          let painted = 0;
          for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted += 1;
          return {
            total: Number(canvas.dataset.total),
            points: Number(canvas.dataset.points),
            painted,
            width: canvas.width,
          };
        });
      charts.push({ name, ...drawn });
    }
    for (const chart of charts) {
      // Every chart has data and was drawn (pixels on its canvas).
      expect({ name: chart.name, total: chart.total > 0 }).toEqual({
        name: chart.name,
        total: true,
      });
      expect(chart.width).toBeGreaterThan(100);
      expect(chart.painted).toBeGreaterThan(500);
    }
    const daily = charts.filter((c) => ['signups-active-teams', 'invitations'].includes(c.name));
    expect(daily.map((c) => c.points)).toEqual([30, 30]);
    // The key numbers stay.
    await page.getByText('Teams with a live subscription').waitFor();

    const screenshot = join(artifactsDir, 'admin-dashboard.png');
    // The panel scrolls inside its own container: a viewport tall enough for every chart.
    await page.setViewportSize({ width: 1600, height: 2600 });
    try {
      await page.screenshot({ path: screenshot, fullPage: true });
    } finally {
      await page.setViewportSize({ width: 1600, height: 1000 });
    }
    process.stderr.write(`\n[admin.browser] dashboard screenshot: ${screenshot}\n`);
    expect((await readFile(screenshot)).length).toBeGreaterThan(10_000);
  }, 60_000);

  it('downloads a CSV export of the filtered users list, the same rows as the list', async () => {
    const tag = `csv${randomBytes(4).toString('hex')}`;
    const made = [];
    for (let i = 0; i < 3; i += 1) {
      made.push(await signUp(t, { email: `${tag}-${i}@example.test`, name: `Export ${i}` }));
    }
    await signUp(t, { email: `other-${randomBytes(4).toString('hex')}@example.test` });

    // The list filtered by email, as the filter drawer puts it into the URL.
    await page.goto(`${baseUrl}/admin/resources/users?filters.email=${tag}`);
    for (const user of made) await page.locator('tr', { hasText: user.email }).first().waitFor();
    const listed = await page.locator('tbody tr').allTextContents();
    expect(listed).toHaveLength(3);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('export-csv').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^users-.*\.csv$/);
    const file = join(artifactsDir, download.suggestedFilename());
    await download.saveAs(file);
    const rows = parse<Record<string, string>>(await readFile(file, 'utf8'), { columns: true });
    expect(rows.map((r) => r.email).sort()).toEqual(made.map((u) => u.email).sort());
    for (const row of rows) {
      expect(listed.some((text) => text.includes(row.email!))).toBe(true);
      expect(row).not.toHaveProperty('passwordHash');
    }

    // Lists without the export action (sessions) show no button.
    await page.goto(`${baseUrl}/admin/resources/sessions`);
    await page.locator('tbody tr').first().waitFor();
    expect(await page.getByTestId('export-csv').count()).toBe(0);
  }, 60_000);

  it("runs under a nonce CSP without 'unsafe-inline'; a staff name with a script stays text", async () => {
    const name = '</script><script>alert(1)</script>';
    const staff = await createStaff(t, 'admin', name);
    const dialogs: string[] = [];
    const violations: string[] = [];
    const onDialog = (dialog: { message(): string; dismiss(): Promise<void> }): void => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    };
    const onConsole = (message: { text(): string }): void => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    };
    page.on('dialog', onDialog);
    page.on('console', onConsole);
    try {
      await page.goto(`${baseUrl}/admin/logout`);
      await signInAs(staff.email, staff.password);
      await page.waitForURL(`${baseUrl}/admin`);
      const csp = await page.evaluate(async () => {
        const res = await fetch('/admin');
        return res.headers.get('content-security-policy');
      });
      const scriptSrc = /(?:^|;)script-src ([^;]*)/.exec(csp ?? '')?.[1];
      expect(scriptSrc).toMatch(/^'self' 'nonce-[^']+'$/);
      // The React app ran (its own inline scripts allowed by the nonce): the dashboard...
      await page.getByText('Teams with a live subscription').waitFor();
      // ...and the lists and records, where the name is shown as text.
      await page.goto(`${baseUrl}/admin/resources/users?filters.email=${staff.email}`);
      await page.locator('tr', { hasText: staff.email }).first().waitFor();
      await page.goto(`${baseUrl}/admin/resources/users/records/${staff.id}/show`);
      await page.getByText(name, { exact: true }).first().waitFor();
      expect({ dialogs, violations }).toEqual({ dialogs: [], violations: [] });
    } finally {
      page.off('dialog', onDialog);
      page.off('console', onConsole);
    }
  }, 60_000);
});
