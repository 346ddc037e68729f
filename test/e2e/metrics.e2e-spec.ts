import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Body, Controller, Get, Logger, Module, Post } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Public } from '../../src/common/decorators/public.decorator.js';
import { LOG_DESTINATION } from '../../src/common/logging/logging.module.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, DEFAULT_PASSWORD, signUp } from '../support/auth.js';

const TOKEN = 'metrics-token-for-tests-0123456789';

/** The value of one sample of the exposition text (`name{labels} value`), 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => have[key] === value)) {
      return Number(match[3]);
    }
  }
  return 0;
}

/** Logs one line from inside a request, for the request-id check. */
// A probe beside the app (not in its OpenAPI document), hence `t.unchecked` below.
@ApiExcludeController()
@Controller('probe-log')
class ProbeLogController {
  private readonly logger = new Logger('Probe');

  @Public()
  @Get()
  log(): { ok: true } {
    this.logger.log('inside the request');
    return { ok: true };
  }

  /** Logs after the body was read and after an await: the request's context must survive. */
  @Public()
  @Post()
  async logAfterBody(@Body() body: unknown): Promise<{ ok: true }> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.logger.log({ keys: Object.keys(body as object) }, 'after the body');
    return { ok: true };
  }

  /** Answers after 300 ms: a client that gives up first leaves a "request aborted" line. */
  @Public()
  @Get('slow')
  async slow(): Promise<{ ok: true }> {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { ok: true };
  }
}

@Module({ controllers: [ProbeLogController] })
class ProbeLogModule {}

type LogLine = Record<string, unknown> & { req?: { id?: unknown } };

class LogCapture {
  readonly lines: LogLine[] = [];
  write(line: string): void {
    this.lines.push(JSON.parse(line) as LogLine);
  }

  /** The logger writes asynchronously: wait a little for the line. */
  async find(match: (line: LogLine) => boolean): Promise<LogLine> {
    for (let i = 0; i < 50; i++) {
      const line = this.lines.find(match);
      if (line) return line;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('no such log line');
  }
}

describe('GET /metrics (Prometheus)', () => {
  describe('with METRICS_TOKEN', () => {
    let t: TestApp;
    const log = new LogCapture();

    beforeAll(async () => {
      t = await createTestApp({
        env: {
          METRICS_TOKEN: TOKEN,
          RATE_LIMIT_PER_EMAIL: '2',
          RATE_LIMIT_PER_IP: '1000',
          LOG_LEVEL: 'info',
        },
        imports: [ProbeLogModule],
        override: (builder) => builder.overrideProvider(LOG_DESTINATION).useValue(log),
      });
    });
    afterAll(async () => {
      await t.close();
    });

    const scrape = async (): Promise<string> => {
      const res = await t.http.get('/metrics').set('Authorization', bearer(TOKEN)).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      return res.text;
    };

    it('refuses a missing or wrong token with 401 and a Bearer challenge', async () => {
      const none = await t.http.get('/metrics').expect(401);
      expect(none.body).toMatchObject({ statusCode: 401, code: 'metrics.unauthorized' });
      expect(none.headers['www-authenticate']).toBe('Bearer realm="metrics"');
      await t.http
        .get('/metrics')
        .set('Authorization', bearer(`${TOKEN}x`))
        .expect(401);
      await t.http.get('/metrics').set('Authorization', TOKEN).expect(401);
      // An access token is not the metrics token.
      const user = await signUp(t);
      await t.http.get('/metrics').set('Authorization', bearer(user.accessToken)).expect(401);
    });

    it('counts a request in the duration histogram by route template, method and status', async () => {
      const user = await signUp(t);
      const labels = { method: 'GET', route: '/api/v1/users/me', status: '200' };
      const before = sample(await scrape(), 'http_request_duration_seconds_count', labels);
      await t.http
        .get('/api/v1/users/me')
        .set('Authorization', bearer(user.accessToken))
        .expect(200);
      await t.http
        .get('/api/v1/users/me')
        .set('Authorization', bearer(user.accessToken))
        .expect(200);
      await t.http.get('/api/v1/users/me').expect(401);
      const text = await scrape();
      expect(sample(text, 'http_request_duration_seconds_count', labels)).toBe(before + 2);
      expect(
        sample(text, 'http_request_duration_seconds_count', { ...labels, status: '401' }),
      ).toBeGreaterThanOrEqual(1);
      // The bucket above every duration holds them all; the raw URL never becomes a label.
      expect(sample(text, 'http_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(
        before + 2,
      );
    });

    it('labels parameterised routes by template and unknown paths as "unmatched"', async () => {
      const user = await signUp(t);
      await t.http
        .get(`/api/v1/teams/${user.team.id}`)
        .set('Authorization', bearer(user.accessToken))
        .expect(200);
      await t.http.get('/api/v1/no-such-route/12345').expect(404);
      const text = await scrape();
      expect(
        sample(text, 'http_request_duration_seconds_count', {
          route: '/api/v1/teams/:teamId',
          status: '200',
        }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        sample(text, 'http_request_duration_seconds_count', { route: 'unmatched', status: '404' }),
      ).toBeGreaterThanOrEqual(1);
      expect(text).not.toContain(`/api/v1/teams/${user.team.id}"`);
      expect(text).not.toContain('no-such-route');
    });

    it('exposes the pool, query durations, in-flight requests and process metrics', async () => {
      const text = await scrape();
      expect(sample(text, 'db_pool_connections', { state: 'total' })).toBeGreaterThanOrEqual(1);
      expect(text).toMatch(/^db_pool_connections\{state="idle"\} \d+$/m);
      expect(text).toMatch(/^db_pool_waiting_requests \d+$/m);
      expect(sample(text, 'db_query_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThan(0);
      // The scrape itself is in flight while it renders.
      expect(sample(text, 'http_requests_in_flight')).toBeGreaterThanOrEqual(1);
      expect(text).toMatch(/^process_cpu_user_seconds_total \S+$/m);
      expect(text).toMatch(/^nodejs_heap_size_used_bytes \S+$/m);
    });

    it("times the reads that run outside transactions (pg-pool's callback queries) too", async () => {
      const user = await signUp(t);
      const count = async () =>
        sample(await scrape(), 'db_query_duration_seconds_count', { outcome: 'ok' });
      const before = await count();
      // Each read runs two or more pooled statements (the principal, then the user's data),
      // none in a transaction.
      for (let i = 0; i < 5; i++) {
        await t.http
          .get('/api/v1/users/me')
          .set('Authorization', bearer(user.accessToken))
          .expect(200);
      }
      expect((await count()) - before).toBeGreaterThanOrEqual(10);
    });

    it('exposes the job queue by queue and state (a sign-up queues its verification mail)', async () => {
      await signUp(t);
      const text = await scrape();
      const mailJobs = [
        ...text.matchAll(/^jobs_queue_jobs\{queue="mail\.send",state="(\w+)"\} (\d+)$/gm),
      ];
      expect(mailJobs.reduce((sum, m) => sum + Number(m[2]), 0)).toBeGreaterThanOrEqual(1);
      expect(text).toContain('# TYPE jobs_queue_jobs gauge');
    });

    it('counts rate-limit refusals by route', async () => {
      const user = await signUp(t);
      const route = { route: '/api/v1/auth/sign-in' };
      const before = sample(await scrape(), 'http_rate_limited_total', route);
      let limited = 0;
      for (let i = 0; i < 4; i++) {
        const res = await t.http
          .post('/api/v1/auth/sign-in')
          .send({ email: user.user.email, password: `${DEFAULT_PASSWORD}!` });
        if (res.status === 429) limited++;
      }
      expect(limited).toBeGreaterThanOrEqual(1);
      expect(sample(await scrape(), 'http_rate_limited_total', route)).toBe(before + limited);
    });

    it('keeps a sane incoming X-Request-Id, echoes it, and puts it on every log line of the request', async () => {
      const res = await t.unchecked
        .get('/api/v1/probe-log')
        .set('X-Request-Id', 'trace-42.a:b')
        .expect(200);
      expect(res.headers['x-request-id']).toBe('trace-42.a:b');
      const inside = await log.find((line) => line.msg === 'inside the request');
      expect((inside.req as { id?: unknown }).id).toBe('trace-42.a:b');
      const completed = await log.find(
        (line) =>
          line.msg === 'request completed' &&
          (line.req as { url?: unknown }).url === '/api/v1/probe-log',
      );
      expect((completed.req as { id?: unknown }).id).toBe('trace-42.a:b');
      expect(inside.req?.id).toBe('trace-42.a:b');
    });

    it("keeps the request's id on lines logged after its body was read", async () => {
      await t.unchecked
        .post('/api/v1/probe-log')
        .set('X-Request-Id', 'trace-body-1')
        .send({ a: 1 })
        .expect(201);
      const inside = await log.find((line) => line.msg === 'after the body');
      expect(inside).toMatchObject({ context: 'Probe', keys: ['a'], req: { id: 'trace-body-1' } });
      const completed = await log.find(
        (line) => line.msg === 'request completed' && line.req?.id === 'trace-body-1',
      );
      expect(completed).toMatchObject({
        level: 30,
        req: { id: 'trace-body-1', method: 'POST', url: '/api/v1/probe-log' },
        res: { statusCode: 201 },
      });
      expect(typeof completed.responseTime).toBe('number');
    });

    it('logs a 4xx at warn, and a request whose client went away as aborted', async () => {
      await t.http.get('/api/v1/users/me').set('X-Request-Id', 'trace-401').expect(401);
      const refused = await log.find((line) => line.req?.id === 'trace-401');
      expect(refused).toMatchObject({
        level: 40,
        msg: 'request completed',
        res: { statusCode: 401 },
      });

      const server = t.app.getHttpServer();
      if (!server.listening)
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((resolve) => {
        const req = httpRequest({
          host: '127.0.0.1',
          port,
          path: '/api/v1/probe-log/slow',
          headers: { 'X-Request-Id': 'trace-abort-1' },
        });
        req.on('error', () => resolve());
        req.end();
        setTimeout(() => req.destroy(), 50);
      });
      const aborted = await log.find((line) => line.req?.id === 'trace-abort-1');
      expect(aborted).toMatchObject({
        msg: 'request aborted',
        req: { id: 'trace-abort-1', method: 'GET', url: '/api/v1/probe-log/slow' },
      });

      // Its handler answers 300 ms in, to a closed connection; by then the metrics counted it
      // once, as 499 (client closed request), and it is no longer in flight.
      await new Promise((resolve) => setTimeout(resolve, 400));
      const text = await scrape();
      const slow = { method: 'GET', route: '/api/v1/probe-log/slow' };
      expect(sample(text, 'http_request_duration_seconds_count', { ...slow, status: '499' })).toBe(
        1,
      );
      expect(sample(text, 'http_request_duration_seconds_count', { ...slow, status: '200' })).toBe(
        0,
      );
      // Only the scrape itself.
      expect(sample(text, 'http_requests_in_flight')).toBe(1);
    });

    it('logs and counts a request the router answers itself (a malformed URL)', async () => {
      const unmatched400 = { method: 'GET', route: 'unmatched', status: '400' };
      const before = sample(await scrape(), 'http_request_duration_seconds_count', unmatched400);
      const res = await t.unchecked
        .get('/api/v1/teams/%E0%A4%A')
        .set('X-Request-Id', 'trace-bad-url')
        .expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, code: 'request.invalid' });
      expect(res.headers['x-request-id']).toBe('trace-bad-url');
      // The security headers every other response carries.
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      const line = await log.find((l) => l.req?.id === 'trace-bad-url');
      expect(line).toMatchObject({
        level: 40,
        msg: 'request completed',
        req: { id: 'trace-bad-url', method: 'GET', url: '/api/v1/teams/%E0%A4%A' },
        res: { statusCode: 400 },
      });
      expect(typeof line.responseTime).toBe('number');
      const text = await scrape();
      expect(sample(text, 'http_request_duration_seconds_count', unmatched400)).toBe(before + 1);
      expect(text).not.toContain('%E0%A4%A');
    });

    it('replaces an oversized or unsafe X-Request-Id with a generated one', async () => {
      for (const bad of ['x'.repeat(129), 'has space', 'quote"d', 'new\tline']) {
        const res = await t.http.get('/health').set('X-Request-Id', bad).expect(200);
        expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      }
    });
  });

  describe('without METRICS_TOKEN', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ env: { METRICS_TOKEN: undefined } });
    });
    afterAll(async () => {
      await t.close();
    });

    it('does not exist: 404 in the API error shape, even with a token', async () => {
      const res = await t.http.get('/metrics').set('Authorization', bearer(TOKEN)).expect(404);
      expect(res.body).toMatchObject({ statusCode: 404, code: 'route.not_found' });
    });
  });
});
