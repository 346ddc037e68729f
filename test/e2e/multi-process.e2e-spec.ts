import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { browserTestsRun, launchChromium } from '../support/chromium.js';
import { freshJobsSchema, uniqueEmail } from '../support/app.js';
import {
  databaseEnv,
  ensureBuilt,
  freePort,
  startProcess as start,
  waitReady,
  type Proc,
} from '../support/processes.js';
import { startSmtpCapture, type SmtpCapture } from '../support/smtp.js';

// Chromium (test/support/chromium.ts): skipped locally without it, required in CI.
const itInBrowser = browserTestsRun('multi-process: the bundled panel') ? it : it.skip;
const METRICS_TOKEN = randomBytes(24).toString('hex');

/**
 * The deployment of the README: two API instances (each running workers, the default) and one
 * `node dist/bundle/worker.js`, as separate processes on one database and one queue. Every
 * mail requested through either API arrives exactly once.
 *
 * api-1 and the worker run the production bundle (dist/bundle/, what `npm start` and the
 * Docker image run), api-2 the unbundled build (dist/, what `npm run start:dev` runs) with
 * ADMIN_PANEL=false: the bundle has to serve exactly what the build it was made from serves.
 */
describe('two API processes and a worker process on one database (e2e)', () => {
  let smtp: SmtpCapture;
  const procs: Proc[] = [];
  let ports: number[] = [];
  let jobsSchema: string;
  /** Mails the tests before the mail test requested (each sign-up sends one). */
  let earlierMails = 0;

  beforeAll(async () => {
    await ensureBuilt();
    smtp = await startSmtpCapture();
    jobsSchema = await freshJobsSchema();
    ports = [await freePort(), await freePort()];
    const env = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      ...databaseEnv(),
      JWT_SECRET: randomBytes(32).toString('hex'),
      SMTP_URL: smtp.url,
      APP_URL: 'http://app.test',
      JOBS_SCHEMA: jobsSchema,
      RATE_LIMIT_PER_IP: '100000',
      RATE_LIMIT_PER_EMAIL: '100000',
      METRICS_TOKEN: METRICS_TOKEN,
    };
    procs.push(start('api-1', 'dist/bundle/main.js', { ...env, PORT: String(ports[0]) }));
    // An API-only instance: no admin panel (ADMIN_PANEL=false), a start-up path of its own.
    procs.push(
      start('api-2', 'dist/main.js', { ...env, PORT: String(ports[1]), ADMIN_PANEL: 'false' }),
    );
    procs.push(start('worker', 'dist/bundle/worker.js', env));
    await Promise.all([waitReady(ports[0]!, procs[0]!), waitReady(ports[1]!, procs[1]!)]);
  }, 360_000);

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await smtp?.close();
  });

  it('serves the same documents, errors and admin panel from the bundle as from the build', async () => {
    const get = async (port: number, path: string, init?: RequestInit) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
      return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
    };
    const [bundled, unbundled] = ports as [number, number];
    // The OpenAPI document: every route, DTO and decorator's metadata made it into the bundle.
    const docs = await get(bundled, '/docs-json');
    expect(docs.status).toBe(200);
    expect(JSON.parse(docs.body)).toEqual(JSON.parse((await get(unbundled, '/docs-json')).body));
    // Validation (class-validator and class-transformer inside the bundle) and the error shape.
    const invalid = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'not-an-email', password: 1, extra: true }),
    };
    const rejected = await get(bundled, '/api/v1/auth/sign-in', invalid);
    expect(rejected.status).toBe(400);
    expect(JSON.parse(rejected.body)).toEqual(
      JSON.parse((await get(unbundled, '/api/v1/auth/sign-in', invalid)).body),
    );
    // The admin panel, loaded on this first request from its own chunk and AdminJS's package.
    const login = await get(bundled, '/admin/login');
    expect(login.status).toBe(200);
    expect(login.type).toContain('text/html');
    expect(login.body).toContain('/admin/frontend/assets/components.bundle.js');
    expect((await get(bundled, '/admin/frontend/assets/components.bundle.js')).status).toBe(200);
    // A staff member's dashboard: the resources' property types, which adminjs-drizzle reads
    // with `instanceof` drizzle-orm's column classes, so it must share the bundle's drizzle.
    const staff = uniqueEmail('mp-staff');
    const password = 'correct horse battery staple';
    const signUp = await fetch(`http://127.0.0.1:${bundled}/api/v1/auth/sign-up`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: staff, password }),
    });
    expect(signUp.status).toBe(201);
    earlierMails += 1;
    const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await db.connect();
    try {
      await db.query(`update users set role = 'support' where email = $1`, [staff]);
    } finally {
      await db.end();
    }
    const panelLogin = await fetch(`http://127.0.0.1:${bundled}/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: `http://127.0.0.1:${bundled}`,
      },
      body: new URLSearchParams({ email: staff, password }).toString(),
    });
    expect(panelLogin.status).toBe(302);
    const cookie = (panelLogin.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const dashboard = await get(bundled, '/admin', { headers: { cookie } });
    expect(dashboard.status).toBe(200);
    expect(dashboard.body).toMatch(
      /"name":"createdAt","propertyPath":"createdAt"[^{}]*"type":"datetime"[^{}]*"resourceId":"users"/,
    );
    expect(dashboard.body).toMatch(
      /"name":"id","propertyPath":"id"[^{}]*"type":"number"[^{}]*"resourceId":"users"/,
    );
    // The staff gates sit behind AdminJS's sign-in check, which the bundle finds by position:
    // no session is sent to sign in (not refused as staff), support staff are refused.
    const deleteUser = (headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${bundled}/admin/api/resources/users/records/1/delete`, {
        method: 'POST',
        redirect: 'manual',
        headers: { origin: `http://127.0.0.1:${bundled}`, ...headers },
      });
    const anonymous = await deleteUser({});
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get('location')).toBe('/admin/login');
    const bySupport = await deleteUser({ cookie });
    expect(bySupport.status).toBe(403);
    expect(await bySupport.json()).toMatchObject({ code: 'admin.read_only' });
    // No panel on the API-only instance: /admin is an unknown route there.
    const noPanel = await get(unbundled, '/admin/login');
    expect(noPanel.status).toBe(404);
    expect(JSON.parse(noPanel.body)).toMatchObject({ code: 'route.not_found' });
    // prom-client, imported when METRICS_TOKEN is set, from outside the bundle.
    const metrics = await get(bundled, '/metrics', {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('http_request_duration_seconds_count{method="GET"');
    // Swagger UI's page and assets, read from swagger-ui-dist's folder.
    expect((await get(bundled, '/docs')).status).toBe(200);
    expect((await get(bundled, '/docs/swagger-ui-bundle.js')).status).toBe(200);
  }, 60_000);

  // The bundle keeps only AdminJS's server side (src/cli/bundle.ts, adminServerOnly); the
  // browser still gets the whole panel from AdminJS's package: a signed-in admin's dashboard
  // (custom components from the prebuilt bundle), a record's edit form, the save.
  itInBrowser(
    'runs the bundled admin panel in Chromium',
    async () => {
      const base = `http://127.0.0.1:${ports[0]!}`;
      const email = uniqueEmail('mp-admin');
      const password = 'correct horse battery staple';
      const signUp = await fetch(`${base}/api/v1/auth/sign-up`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password, name: 'Bundle Admin' }),
      });
      expect(signUp.status).toBe(201);
      earlierMails += 1;
      const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await db.connect();
      const browser = await launchChromium();
      try {
        await db.query(`update users set role = 'admin' where email = $1`, [email]);
        const { rows } = await db.query<{ id: number }>(
          `select t.id from teams t join team_members m on m.team_id = t.id
         join users u on u.id = m.user_id where u.email = $1`,
          [email],
        );
        const teamId = rows[0]!.id;
        const page = browser.context.pages()[0] ?? (await browser.context.newPage());
        page.setDefaultTimeout(15_000);
        const pageErrors: string[] = [];
        page.on('pageerror', (error) => pageErrors.push(error.message));

        await page.goto(`${base}/admin`);
        await page.waitForURL(`${base}/admin/login`);
        await page.locator('input[name="email"]').fill(email);
        await page.locator('input[name="password"]').fill(password);
        await page.locator('form[action="/admin/login"] button').click();
        await page.waitForURL(`${base}/admin`);
        await page.getByText('Teams with a live subscription').waitFor();

        await page.goto(`${base}/admin/resources/teams/records/${teamId}/edit`);
        await page.locator('input[name="name"]').fill('Renamed through the bundle');
        await page.locator('button[type="submit"]').click();
        await page.waitForURL(new RegExp(`/admin/resources/teams/records/${teamId}/show`));
        await page.getByText('Renamed through the bundle').first().waitFor();
        const saved = await db.query<{ name: string }>('select name from teams where id = $1', [
          teamId,
        ]);
        expect(saved.rows[0]?.name).toBe('Renamed through the bundle');
        expect(pageErrors).toEqual([]);
      } finally {
        await browser.close();
        await db.end();
      }
    },
    90_000,
  );

  it('delivers each mail once, and every process stops cleanly on SIGTERM', async () => {
    const total = 12;
    const emails = Array.from({ length: total }, () => uniqueEmail('multi'));
    await Promise.all(
      emails.map(async (email, i) => {
        const res = await fetch(`http://127.0.0.1:${ports[i % 2]}/api/v1/auth/sign-up`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email, password: 'correct horse battery staple' }),
        });
        expect(res.status).toBe(201);
      }),
    );
    for (const email of emails) await smtp.waitForMail(email, { timeoutMs: 30_000 });
    await sleep(2500); // a second delivery would show up here
    for (const email of emails) {
      expect(smtp.messages.filter((m) => m.to.includes(email))).toHaveLength(1);
    }

    const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ state: string; count: string }>(
        `select state, count(*) from ${jobsSchema}.job where name = 'mail.send' group by state`,
      );
      expect(rows).toEqual([{ state: 'completed', count: String(total + earlierMails) }]);
    } finally {
      await client.end();
    }

    for (const p of procs) p.child.kill('SIGTERM');
    const exits = await Promise.all(procs.map((p) => p.exited));
    // Each re-raises the signal after a clean shutdown (an error would exit with code 1); a
    // process that did not says why (its output) in the failure.
    const unclean = procs.flatMap((p, i) =>
      exits[i]?.signal === 'SIGTERM'
        ? []
        : [`${p.name} exited with ${JSON.stringify(exits[i])}:\n${p.output.join('')}`],
    );
    expect(unclean).toEqual([]);
    expect(exits).toEqual(procs.map(() => ({ code: null, signal: 'SIGTERM' })));
  }, 120_000);
});
