import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { startHaproxy, type Haproxy } from '../support/haproxy.js';
import { createOwnDatabase, onServer, type OwnDatabase } from '../support/own-database.js';
import { startPgBouncer, type PgBouncer } from '../support/pgbouncer.js';
import { freePort, startProcess, waitReady, type Proc } from '../support/processes.js';
import { acquireRedis, REDIS_HOW_TO, type TestRedis } from '../support/redis.js';
import { startSmtpCapture, type SmtpCapture } from '../support/smtp.js';
import {
  startWebhookReceiver,
  waitFor,
  type WebhookReceiver,
} from '../support/webhook-receiver.js';

/**
 * The production topology of issue 29 and docs/deploying.md, every piece a real process on
 * loopback, started and stopped by this test by PID: HAProxy (Debian's package) in front of
 * two `dist/bundle/main.js` with WORKERS=false, one `dist/bundle/worker.js`, PgBouncer in
 * transaction mode (DB_POOLER=transaction, DATABASE_DIRECT_URL straight to the server), Redis
 * for the shared rate-limit counters, on a database of the test's own.
 *
 * 1. Under a steady load of reads and writes through HAProxy, each API instance is restarted
 *    in turn (SIGTERM, exit, a new one, ready): no request fails, every write is stored once.
 * 2. The worker is killed (SIGKILL) in the middle of a batch of invitation mails and webhook
 *    deliveries and another one started: each mail arrives once; each event has one delivery
 *    row per endpoint, succeeded. Webhooks are at least once (as Standard Webhooks are): the
 *    attempt the dead worker had sent reaches the receiver again, with the same `webhook-id`,
 *    so the receiver keeps each event once by that id; exactly those attempts are repeated.
 *    Mail is at least once too (a crash between the server's 250 and the job's completion
 *    sends it again, same Message-ID); the kill here lands before the 250, which is the
 *    common case, and then nothing may arrive twice. The dead worker's jobs are returned by
 *    the queue's expiry, fast-forwarded by the test (see below).
 *
 * Needs the build (`npm run build`: dist/bundle), haproxy and pgbouncer (Debian packages,
 * under /usr/sbin) and Redis (the machine's at 127.0.0.1:6379, or a redis-server binary).
 */
const ROOT = process.cwd();
const BUNDLE = ['dist/bundle/main.js', 'dist/bundle/worker.js'];
const PASSWORD = 'correct horse battery staple';
/**
 * The load: one request every 40 ms (25 per second), one in four a write: what one instance
 * (the other restarting) carries on a 2-core CI machine shared with other jobs.
 */
const INTERVAL_MS = 40;
const MIN_LOAD_MS = 20_000;
/** SHUTDOWN_DRAIN_MS's production default: longer than HAProxy's inter (1 s) x fall (3). */
const DRAIN_MS = 5000;
/** Invitations of the worker phase: the first half before the kill, the rest around it. */
const INVITATIONS = 24;
const ENDPOINTS = ['/hook-a', '/hook-b', '/hook-c'];

function adminUrl(): string {
  const url = process.env.NEST_SAAS_TEST_ADMIN_URL;
  if (url === undefined) throw new Error('NEST_SAAS_TEST_ADMIN_URL is set by the global setup');
  return url;
}

interface Outcome {
  what: string;
  status: number;
  error?: string;
  expected: number;
}

describe('topology: HAProxy, two API instances, a worker, PgBouncer and Redis', () => {
  const runId = randomBytes(4).toString('hex');
  let db: OwnDatabase;
  let bouncer: PgBouncer;
  let redis: TestRedis;
  let smtp: SmtpCapture;
  let receiver: WebhookReceiver;
  let haproxy: Haproxy;
  let sql: pg.Pool;
  let base: string;
  let ports: number[];
  const apis: Proc[] = [];
  let worker: Proc;
  const retired: Proc[] = [];
  let env: Record<string, string>;

  const startApi = (i: number): Proc =>
    startProcess(`api${i + 1}`, 'dist/bundle/main.js', {
      ...env,
      WORKERS: 'false',
      PORT: String(ports[i]),
    });
  const startWorker = (name: string): Proc => startProcess(name, 'dist/bundle/worker.js', env);

  beforeAll(async () => {
    const missing = BUNDLE.filter((p) => !existsSync(join(ROOT, p)));
    if (missing.length > 0) {
      throw new Error(
        `The topology test runs the production build, and ${missing.join(', ')} is missing: run \`npm run build\` first.`,
      );
    }
    db = await createOwnDatabase('topology');
    // The pooled start-up check wants UTC sessions (docs/deploying.md).
    await onServer(
      db.directUrl,
      `alter database "${new URL(db.directUrl).pathname.slice(1)}" set timezone to 'UTC'`,
    );
    bouncer = await startPgBouncer(adminUrl(), { poolSize: 10 });
    const acquired = await acquireRedis();
    if (acquired === undefined) throw new Error(REDIS_HOW_TO);
    redis = acquired;
    smtp = await startSmtpCapture();
    receiver = await startWebhookReceiver();
    sql = new pg.Pool({ connectionString: db.directUrl, max: 2 });
    ports = [await freePort(), await freePort()];
    const balancerPort = await freePort();
    base = `http://127.0.0.1:${balancerPort}`;
    // A Redis database of this test's own on the machine's server (the keys are not prefixed
    // per run): the last of the 16 default ones.
    const redisUrl = redis.source === 'machine' ? `${redis.url}/15` : redis.url;
    env = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATABASE_URL: bouncer.url(db.directUrl),
      DATABASE_DIRECT_URL: db.directUrl,
      DB_POOLER: 'transaction',
      JOBS_SCHEMA: db.jobsSchema,
      JWT_SECRET: randomBytes(32).toString('hex'),
      APP_URL: 'http://app.test',
      ADMIN_PANEL: 'false',
      SMTP_URL: smtp.url,
      REDIS_URL: redisUrl,
      // HAProxy's X-Forwarded-For is the client address.
      TRUST_PROXY: '1',
      SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
      JOBS_SHUTDOWN_TIMEOUT_MS: '5000',
      // Counted in Redis, never reached: the load is one client address.
      RATE_LIMIT_PER_IP: '100000',
      RATE_LIMIT_PER_EMAIL: '100000',
      RATE_LIMIT_TOKEN_PER_IP: '100000',
      API_KEY_RATE_LIMIT: '100000',
      INVITATION_RATE_LIMIT_PER_INVITER: '100000',
      INVITATION_RATE_LIMIT_PER_TEAM: '100000',
      INVITATION_RATE_LIMIT_PER_RECIPIENT: '100000',
      WEBHOOKS_EVENT_RATE_LIMIT: '100000',
      WEBHOOKS_ALLOW_PRIVATE: 'true',
      WEBHOOKS_TIMEOUT_MS: '2000',
    };
    apis.push(startApi(0), startApi(1));
    worker = startWorker('worker-1');
    await Promise.all(apis.map((p, i) => waitReady(ports[i]!, p)));
    haproxy = await startHaproxy({ port: balancerPort, servers: ports });
    await haproxy.waitForState('api1', 'UP');
    await haproxy.waitForState('api2', 'UP');
  }, 150_000);

  afterAll(async () => {
    for (const p of [...apis, ...retired, worker]) {
      if (p && p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGKILL');
        await p.exited;
      }
    }
    await haproxy?.stop();
    await sql?.end();
    await receiver?.close();
    await smtp?.close();
    await bouncer?.stop();
    await redis?.stop();
    await db?.drop();
  }, 60_000);

  /** A request through HAProxy; never throws (a network error is an outcome). */
  async function call(
    what: string,
    method: 'GET' | 'POST',
    path: string,
    expected: number,
    token?: string,
    body?: unknown,
  ): Promise<Outcome & { json?: unknown }> {
    try {
      const res = await fetch(`${base}/api/v1${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(60_000),
      });
      const text = await res.text();
      const json = text ? (JSON.parse(text) as unknown) : undefined;
      return {
        what,
        status: res.status,
        expected,
        json,
        ...(res.status === expected ? {} : { error: text.slice(0, 300) }),
      };
    } catch (error) {
      return { what, status: 0, expected, error: String(error) };
    }
  }

  async function signUp(email: string) {
    const res = await call('sign-up', 'POST', '/auth/sign-up', 201, undefined, {
      email,
      password: PASSWORD,
    });
    expect(res).toMatchObject({ status: 201 });
    const body = res.json as { accessToken: string; user: { id: number }; team: { id: number } };
    return { token: body.accessToken, userId: body.user.id, teamId: body.team.id };
  }

  /** SIGTERM, its exit, a new instance on the same port, ready, and UP in HAProxy again. */
  async function restartApi(i: number): Promise<void> {
    const old = apis[i]!;
    const name = `api${i + 1}`;
    old.child.kill('SIGTERM');
    // Not ready at once: HAProxy takes it out of rotation while it still serves (the drain).
    await haproxy.waitForState(name, 'DOWN', DRAIN_MS + 10_000);
    const exit = await old.exited;
    expect({ name, exit, output: exit.signal === 'SIGTERM' ? '' : old.output.join('') }).toEqual({
      name,
      exit: { code: null, signal: 'SIGTERM' },
      output: '',
    });
    retired.push(old);
    const fresh = startApi(i);
    apis[i] = fresh;
    await waitReady(ports[i]!, fresh);
    await haproxy.waitForState(name, 'UP');
  }

  it('loses no request and stores every write once while each API instance restarts in turn', async () => {
    const members = [];
    for (let i = 0; i < 3; i++) members.push(await signUp(`topo-${runId}-${i}@example.com`));
    // Creating API keys needs a verified address (the emailed link's effect).
    await sql.query('update users set email_verified_at = now() where id = any($1)', [
      members.map((m) => m.userId),
    ]);

    const outcomes: Promise<Outcome>[] = [];
    const teamNames: string[] = [];
    const keyNames: string[] = [];
    let stop = false;
    let n = 0;
    const load = (async () => {
      const started = Date.now();
      let next = started;
      while (!stop || Date.now() - started < MIN_LOAD_MS) {
        const i = n++;
        const m = members[i % members.length]!;
        if (i % 8 === 0) {
          const name = `topo-${runId}-team-${i}`;
          teamNames.push(name);
          outcomes.push(call(name, 'POST', '/teams', 201, m.token, { name }));
        } else if (i % 8 === 4) {
          const name = `topo-${runId}-key-${i}`;
          keyNames.push(name);
          outcomes.push(
            call(name, 'POST', `/teams/${m.teamId}/api-keys`, 201, m.token, {
              name,
              scopes: ['team:read'],
            }),
          );
        } else {
          const path = ['/users/me', `/teams/${m.teamId}`, '/teams', `/teams/${m.teamId}/api-keys`][
            i % 4
          ]!;
          outcomes.push(call(`GET ${path}`, 'GET', path, 200, m.token));
        }
        next += INTERVAL_MS;
        await sleep(Math.max(0, next - Date.now()));
      }
    })();

    try {
      await sleep(2000);
      await restartApi(0);
      await restartApi(1);
      await sleep(2000);
    } finally {
      stop = true;
      await load;
    }
    const results = await Promise.all(outcomes);

    const failed = results.filter((r) => r.status !== r.expected);
    expect({
      failed: failed.slice(0, 10),
      count: failed.length,
      haproxy: failed.length ? haproxy.output.join('') : '',
    }).toEqual({ failed: [], count: 0, haproxy: '' });
    // The restarts happened under the load, not next to it.
    expect(results.length).toBeGreaterThanOrEqual((MIN_LOAD_MS / INTERVAL_MS) * 0.9);

    const stored = async (table: string, names: string[]) => {
      const { rows } = await sql.query<{ name: string; n: number }>(
        `select name, count(*)::int as n from ${table} where name = any($1) group by name`,
        [names],
      );
      return Object.fromEntries(rows.map((r) => [r.name, r.n]));
    };
    expect(await stored('teams', teamNames)).toEqual(
      Object.fromEntries(teamNames.map((name) => [name, 1])),
    );
    expect(await stored('api_keys', keyNames)).toEqual(
      Object.fromEntries(keyNames.map((name) => [name, 1])),
    );
  }, 120_000);

  it('delivers each mail once and records each webhook delivery once after a worker is killed mid-batch', async () => {
    const owner = await signUp(`topo-${runId}-owner@example.com`);
    // Inviting needs a verified address (the emailed link's effect).
    await sql.query('update users set email_verified_at = now() where id = $1', [owner.userId]);
    for (const path of ENDPOINTS) {
      const res = await call(
        'endpoint',
        'POST',
        `/teams/${owner.teamId}/webhooks`,
        201,
        owner.token,
        {
          url: receiver.url(path),
          events: ['invitation.created'],
        },
      );
      expect(res).toMatchObject({ status: 201 });
    }
    const invitees = Array.from(
      { length: INVITATIONS },
      (_, i) => `topo-${runId}-invitee-${i}@example.com`,
    );
    const invite = async (email: string) => {
      const res = await call(
        'invite',
        'POST',
        `/teams/${owner.teamId}/invitations`,
        201,
        owner.token,
        {
          email,
          role: 'member',
        },
      );
      expect(res).toMatchObject({ status: 201 });
    };
    const jobsLeft = async (): Promise<number> => {
      const { rows } = await sql.query<{ n: number }>(
        `select count(*)::int as n from "${db.jobsSchema}".job
          where name in ('mail.send', 'webhooks.deliver') and state not in ('completed', 'cancelled')`,
      );
      return rows[0]!.n;
    };
    const half = INVITATIONS / 2;
    // The invitations go to both instances in turn; each counts them in the one Redis.
    const { Redis } = await import('ioredis');
    const redisClient = new Redis(env.REDIS_URL!, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redisClient.connect();
    const inviterKey = `rl:invitation:inviter:${owner.userId}`;
    const counted = async () => Number((await redisClient.get(inviterKey)) ?? 0);
    const countedBefore = await counted();

    // The first half goes through: mails answered, deliveries answered, their jobs completed.
    for (const email of invitees.slice(0, half)) await invite(email);
    await waitFor(
      async () =>
        invitees.slice(0, half).every((e) => smtp.messages.some((m) => m.to.includes(e))) &&
        ENDPOINTS.every((p) => receiver.on(p).length === half) &&
        (await jobsLeft()) === 0,
      'the first half of the batch',
      60_000,
    );

    // The rest: the mail server and the endpoints now take their time, so the worker is in
    // the middle of mails and deliveries (sent, not answered) when it is killed.
    smtp.hold(true);
    for (const path of ENDPOINTS) receiver.hold(path);
    for (const email of invitees.slice(half, half + 4)) await invite(email);
    await waitFor(
      () => smtp.held > 0 && ENDPOINTS.every((p) => receiver.on(p).length === half + 1),
      'the worker in the middle of a mail and of one delivery per endpoint',
      30_000,
    );
    const inFlight = Object.fromEntries(
      ENDPOINTS.map((p) => [p, receiver.on(p)[half]!.headers['webhook-id']]),
    );
    worker.child.kill('SIGKILL');
    expect(await worker.exited).toEqual({ code: null, signal: 'SIGKILL' });
    retired.push(worker);
    // The sessions of the dead worker close: its unanswered mails were never accepted.
    await waitFor(() => smtp.held === 0, 'the dead worker’s SMTP sessions to close', 10_000);
    smtp.hold(false);
    for (const path of ENDPOINTS) receiver.release(path);
    // More of the batch while no worker runs.
    for (const email of invitees.slice(half + 4)) await invite(email);

    // pg-boss returns a dead worker's jobs once they expire (mail.send: 120 s after they
    // started; webhooks.deliver: WEBHOOKS_TIMEOUT_MS + 60 s), at the next maintenance pass
    // (every 2 minutes). Instead of waiting up to 4 minutes, the test moves the start of the
    // jobs the dead worker held back by their expiry and runs that maintenance pass itself:
    // what the queue does on its own a few minutes later. Their retries then wait their own
    // delays (mail: 15-30 s; a delivery: until the dead attempt's hold on its endpoint lapsed).
    const { rowCount } = await sql.query(
      `update "${db.jobsSchema}".job set started_on = started_on - expire_in
        where state = 'active' and name in ('mail.send', 'webhooks.deliver')`,
    );
    expect(rowCount).toBeGreaterThanOrEqual(1 + ENDPOINTS.length);
    const boss = new PgBoss({
      connectionString: db.directUrl,
      schema: db.jobsSchema,
      migrate: false,
      supervise: false,
      schedule: false,
      max: 1,
    });
    await boss.start();
    try {
      await boss.expire();
    } finally {
      await boss.stop({ graceful: false });
    }
    worker = startWorker('worker-2');

    await waitFor(
      async () =>
        invitees.every((e) => smtp.messages.some((m) => m.to.includes(e))) &&
        ENDPOINTS.every(
          (p) => new Set(receiver.on(p).map((r) => r.headers['webhook-id'])).size === INVITATIONS,
        ) &&
        (await jobsLeft()) === 0,
      'every mail and every delivery after the restart',
      110_000,
    );
    await sleep(2000); // a second mail or delivery would show up here

    const countedAfter = await counted();
    redisClient.disconnect();
    expect(countedAfter - countedBefore).toBe(INVITATIONS);

    // Mail: exactly once each (the held ones were never accepted, so sent again once).
    const mails = invitees.map((e) => smtp.messages.filter((m) => m.to.includes(e)).length);
    expect(mails).toEqual(invitees.map(() => 1));

    // Webhooks: one event per invitation, one delivery row per event and endpoint, succeeded.
    const { rows: deliveries } = await sql.query<{
      path: string;
      event_id: string;
      status: string;
      n: number;
    }>(
      `select e.url as path, d.event_id, d.status, count(*)::int as n
         from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
        where e.team_id = $1 group by e.url, d.event_id, d.status`,
      [owner.teamId],
    );
    const { rows: events } = await sql.query<{ id: string }>(
      `select id from webhook_events where team_id = $1 and type = 'invitation.created'`,
      [owner.teamId],
    );
    expect(events).toHaveLength(INVITATIONS);
    const eventIds = events.map((e) => e.id).sort();
    for (const path of ENDPOINTS) {
      const rows = deliveries.filter((d) => d.path === receiver.url(path));
      expect(rows.map((d) => [d.event_id, d.status, d.n]).sort()).toEqual(
        eventIds.map((id) => [id, 'succeeded', 1]),
      );
      // The receiver, keeping each event once by its webhook-id, has every event once; the only
      // repeated request is the attempt the dead worker had sent, with the same id and body.
      const received = receiver.on(path);
      const byId = new Map<string, string[]>();
      for (const r of received) {
        const id = r.headers['webhook-id']!;
        byId.set(id, [...(byId.get(id) ?? []), r.body]);
      }
      expect([...byId.keys()].sort()).toEqual(eventIds);
      const repeated = [...byId].filter(([, bodies]) => bodies.length > 1);
      expect(repeated.map(([id, bodies]) => [id, bodies.length, new Set(bodies).size])).toEqual([
        [inFlight[path], 2, 1],
      ]);
    }
  }, 180_000);
});
