import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Response } from 'supertest';
import { isDatabaseUnavailable } from '../../src/common/errors/pg-errors.js';
import { LOG_DESTINATION } from '../../src/common/logging/logging.module.js';
import { TransactionHost } from '../../src/database/transaction-host.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, signUp, type SignedUp } from '../support/auth.js';
import { PgProxy } from '../support/pg-proxy.js';

const STATEMENT_TIMEOUT_MS = 500;
/** Generous: the machine is shared; what matters is that the answer comes, not its speed. */
const ANSWER_BOUND_MS = 10_000;

/** Every log line the app writes (pino JSON), parsed. */
const logLines: Record<string, unknown>[] = [];
const logStream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
    }
    done();
  },
});

function expectUnavailable(res: Response): void {
  expect({ status: res.status, body: res.body as unknown }).toEqual({
    status: 503,
    body: {
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'service.unavailable',
      message: 'The service is temporarily unavailable; try again shortly',
    },
  });
  expect(res.headers['retry-after']).toBe('5');
}

/** Runs `request` and returns its response and how long it took. */
async function timed(request: () => PromiseLike<Response>): Promise<[Response, number]> {
  const started = Date.now();
  const res = await request();
  return [res, Date.now() - started];
}

describe('database outage', () => {
  let proxy: PgProxy;
  let t: TestApp;
  let user: SignedUp;
  /** A connection straight to the test database, beside the proxy. */
  let direct: pg.Client;

  beforeAll(async () => {
    proxy = await PgProxy.start();
    // The app boots (and runs its migrations) through the proxy while it forwards.
    t = await createTestApp({
      env: {
        DATABASE_URL: proxy.url,
        DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
        // One connection: a client left mid-transaction would be the next request's.
        DATABASE_POOL_MAX: '1',
        LOG_LEVEL: 'warn',
      },
      override: (builder) => builder.overrideProvider(LOG_DESTINATION).useValue(logStream),
    });
    user = await signUp(t);
    direct = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await direct.connect();
  });

  afterEach(async () => {
    await proxy.restore();
  });

  afterAll(async () => {
    await direct?.end();
    await t?.close();
    await proxy?.close();
  });

  const me = () => t.http.get('/api/v1/users/me').set('Authorization', bearer(user.accessToken));
  const signIn = (email = user.email) =>
    t.http.post('/api/v1/auth/sign-in').send({ email, password: user.password });

  it('works through the proxy while the database is up, every query bounded by the server too', async () => {
    expect((await me()).status).toBe(200);
    const res = await t.db.execute<{ statement_timeout: string }>(sql`show statement_timeout`);
    // Through a pooler (a run with DB_POOLER) no session setting reaches the server: the
    // bound there is the role's (README), the app's is the client's (the tests below).
    if (t.config.databasePooler === undefined) {
      expect(res.rows[0]?.statement_timeout).toBe(`${STATEMENT_TIMEOUT_MS}ms`);
    }
  });

  describe('when PostgreSQL refuses connections', () => {
    it('answers 503 service.unavailable with Retry-After, then recovers by itself', async () => {
      await proxy.refuse();
      expectUnavailable(await me());
      expectUnavailable(await signIn());
      const ready = await t.http.get('/health/ready');
      expect(ready.status).toBe(503);

      await proxy.restore();
      expect((await me()).status).toBe(200);
      expect((await signIn()).status).toBe(200);
      expect((await t.http.get('/health/ready')).status).toBe(200);
    });
  });

  describe('when PostgreSQL accepts but never answers', () => {
    it('answers 503 within the statement timeout instead of hanging, then recovers', async () => {
      // A pooled connection opened before the freeze: its query gets no answer.
      expect((await me()).status).toBe(200);
      proxy.freeze();
      const [first, firstMs] = await timed(() => me());
      expectUnavailable(first);
      expect(firstMs).toBeLessThan(ANSWER_BOUND_MS);
      // The next request needs a new connection, whose opening gets no answer either.
      const [second, secondMs] = await timed(() => signIn());
      expectUnavailable(second);
      expect(secondMs).toBeLessThan(ANSWER_BOUND_MS);
      const [ready, readyMs] = await timed(() => t.http.get('/health/ready'));
      expect(ready.status).toBe(503);
      expect(readyMs).toBeLessThan(ANSWER_BOUND_MS);

      await proxy.restore();
      expect((await me()).status).toBe(200);
      expect((await signIn()).status).toBe(200);
    });

    it('rolls back a transaction whose query timed out and never reuses its connection', async () => {
      const txHost = t.app.get(TransactionHost);
      const lost = uniqueEmail('lost');
      const kept = uniqueEmail('kept');
      const insert = (email: string) =>
        txHost.db.execute(sql`insert into users (email, password_hash) values (${email}, 'x')`);

      const failure: unknown = await txHost
        .transaction(async () => {
          await insert(lost);
          proxy.freeze();
          await txHost.db.execute(sql`select 1`);
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      // The query's own timeout surfaces, not the failed ROLLBACK on the closed connection.
      expect((failure as Error).message).toMatch(/^Failed query: select 1/);
      expect(((failure as Error).cause as Error).message).toBe('Query read timeout');
      expect(isDatabaseUnavailable(failure)).toBe(true);
      await proxy.restore();

      // The next transaction on the (single-connection) pool commits on a fresh connection;
      // had the timed-out client come back, its open transaction would commit `lost` too.
      await txHost.transaction(() => insert(kept));
      const rows = await direct.query<{ email: string }>(
        'select email from users where email = any($1)',
        [[lost, kept]],
      );
      expect(rows.rows.map((r) => r.email)).toEqual([kept]);
    });
  });

  it("logs a failed query's SQL, never its parameter values", async () => {
    const email = uniqueEmail('private');
    logLines.length = 0;
    proxy.freeze();
    expectUnavailable(await signIn(email));
    await proxy.restore();
    // pino writes asynchronously to the stream; give it a moment.
    for (let i = 0; i < 50 && !logLines.some((l) => l.msg === 'Database unavailable'); i++) {
      await sleep(20);
    }
    const entry = logLines.find((l) => l.msg === 'Database unavailable');
    expect(entry).toBeDefined();
    const err = entry!.err as { type: string; message: string; query?: string };
    expect(err.type).toBe('DrizzleQueryError');
    // The first query of a password sign-in: whether SSO is enforced for the address's
    // domain (team_domains ⨝ sso_connections), then the user by email. Either way placeholders.
    expect(err.message).toMatch(/^Failed query: select .* = \$1/s);
    expect(JSON.stringify(logLines)).not.toContain(email.split('@')[0]);
  });
});
