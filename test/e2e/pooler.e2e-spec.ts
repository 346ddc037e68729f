import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import { prepareDatabase } from '../../src/boot/database.js';
import { loadConfig } from '../../src/config/app-config.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, signUp, type SignedUp } from '../support/auth.js';
import { createOwnDatabase } from '../support/own-database.js';
import { pgBouncerAvailable, startPgBouncer, type PgBouncer } from '../support/pgbouncer.js';
import { startSmtpCapture, type SmtpCapture } from '../support/smtp.js';

/**
 * The deployment of issue 29: DATABASE_URL through PgBouncer 1.18 (Debian's) in transaction
 * mode, DB_POOLER=transaction, DATABASE_DIRECT_URL straight to the server. The PgBouncer here
 * is strict: it ignores no startup parameter, and its pool has 2 server connections, so
 * consecutive transactions of one client connection land on different server sessions.
 */
const describeWithPgBouncer = pgBouncerAvailable() ? describe : describe.skip;
if (!pgBouncerAvailable()) {
  process.stderr.write(
    'pooler.e2e-spec: SKIPPED: pgbouncer is not installed (apt-get install -y pgbouncer); with CI=true this suite fails instead\n',
  );
}

/** The run's test database, straight to the server (the global setup's DATABASE_DIRECT_URL). */
function directTestUrl(): string {
  const url = process.env.DATABASE_DIRECT_URL ?? process.env.DATABASE_URL;
  if (url === undefined) throw new Error('DATABASE_URL is set by the global setup');
  return url;
}

async function onServer(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A port nothing listens on: a DATABASE_URL there refuses every connection. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describeWithPgBouncer(
  'DATABASE_URL through PgBouncer in transaction mode (DB_POOLER=transaction)',
  () => {
    let bouncer: PgBouncer;
    let smtp: SmtpCapture;
    let t: TestApp;

    beforeAll(async () => {
      bouncer = await startPgBouncer(directTestUrl(), { poolSize: 2 });
      smtp = await startSmtpCapture();
      t = await createTestApp({
        env: {
          DATABASE_URL: bouncer.url(directTestUrl()),
          DATABASE_DIRECT_URL: directTestUrl(),
          DB_POOLER: 'transaction',
          SMTP_URL: smtp.url,
        },
      });
    });

    afterAll(async () => {
      await t?.close();
      await smtp?.close();
      await bouncer?.stop();
    });

    it('answers 200 to many concurrent hot reads (me, team, activity) through 2 server connections', async () => {
      const members: SignedUp[] = [];
      for (let i = 0; i < 4; i++) members.push(await signUp(t));
      const reads = members.flatMap((m) =>
        [
          `/api/v1/users/me`,
          `/api/v1/teams/${m.team.id}`,
          `/api/v1/teams/${m.team.id}/activity?limit=20`,
        ].map((path) => ({ path, token: m.accessToken })),
      );
      // Several rounds of every read at once: each client connection's statements are spread
      // over both server sessions, as under production load.
      const responses = await Promise.all(
        Array.from({ length: 5 }, () => reads)
          .flat()
          .map(async ({ path, token }) => {
            const res = await t.unchecked.get(path).set('Authorization', bearer(token));
            return { path, status: res.status, body: res.body as unknown };
          }),
      );
      const failed = responses.filter((r) => r.status !== 200);
      expect({ failed: failed.slice(0, 5), log: failed.length ? await bouncer.log() : '' }).toEqual(
        { failed: [], log: '' },
      );
      expect(responses).toHaveLength(60);
    });

    it('runs the job queue: the verification mail of a sign-up is delivered', async () => {
      const member = await signUp(t);
      const mail = await smtp.waitForMail(member.email, { timeoutMs: 15_000 });
      expect(mail.subject).toBe('Verify your email address');
    });
  },
);

describeWithPgBouncer('the boot edge with DB_POOLER=transaction', () => {
  const adminUrl = () => {
    const url = process.env.NEST_SAAS_TEST_ADMIN_URL;
    if (url === undefined) throw new Error('NEST_SAAS_TEST_ADMIN_URL is set by the global setup');
    return url;
  };
  let name: string;
  let directUrl: string;

  beforeAll(async () => {
    name = `pooler_boot_${Date.now()}_${randomBytes(3).toString('hex')}`;
    await onServer(adminUrl(), `create database "${name}"`);
    const url = new URL(adminUrl());
    url.pathname = `/${name}`;
    directUrl = url.toString();
  });

  afterAll(async () => {
    await onServer(adminUrl(), `drop database if exists "${name}" with (force)`);
  });

  it('migrates and seeds on DATABASE_DIRECT_URL and never connects to DATABASE_URL', async () => {
    const refused = `postgres://postgres@127.0.0.1:${await closedPort()}/${name}`;
    const config = loadConfig({
      ...process.env,
      DATABASE_URL: refused,
      DATABASE_DIRECT_URL: directUrl,
      DB_POOLER: 'transaction',
      JOBS_SCHEMA: 'jobs_pooler_boot',
    });
    const prepared = await prepareDatabase(config, { seed: true });
    await prepared.stop();
    const client = new pg.Client({ connectionString: directUrl });
    await client.connect();
    try {
      const migrations = await client.query(
        'select count(*)::int as n from drizzle.__drizzle_migrations',
      );
      const queue = await client.query('select version from jobs_pooler_boot.version');
      const seeded = await client.query(`select email from users where email = 'test@test.com'`);
      expect({
        migrations: (migrations.rows[0] as { n: number }).n > 0,
        queue: queue.rowCount,
        seeded: seeded.rowCount,
      }).toEqual({ migrations: true, queue: 1, seeded: 1 });
    } finally {
      await client.end();
    }
  });

  it('refuses to start when sessions through the pooler are not in UTC', async () => {
    // A direct connection sets its session's time zone; through the pooler the server's
    // default applies, and timestamps (stored without time zone, in UTC) would be written in
    // another zone by every `now()` default.
    const own = await createOwnDatabase('pooler_tz');
    const bouncer = await startPgBouncer(own.directUrl, { poolSize: 2 });
    try {
      await onServer(
        own.directUrl,
        `alter database "${new URL(own.directUrl).pathname.slice(1)}" set timezone to 'America/New_York'`,
      );
      await expect(
        createTestApp({
          env: {
            DATABASE_URL: bouncer.url(own.directUrl),
            DATABASE_DIRECT_URL: own.directUrl,
            DB_POOLER: 'transaction',
            JOBS_SCHEMA: own.jobsSchema,
          },
        }),
      ).rejects.toThrow(/DB_POOLER=transaction.*America\/New_York.*UTC/);
    } finally {
      await bouncer.stop();
      await own.drop();
    }
  });
});
