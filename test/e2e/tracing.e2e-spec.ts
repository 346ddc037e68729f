import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { freshJobsSchema, uniqueEmail } from '../support/app.js';
import {
  FAKE_STRIPE_SECRET_KEY,
  FAKE_WEBHOOK_SECRET,
  startFakeStripe,
  type FakeStripe,
} from '../support/fake-stripe.js';
import {
  startOtlpReceiver,
  SpanKind,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../support/otlp-receiver.js';
import {
  databaseEnv,
  ensureBuilt,
  freePort,
  startProcess,
  waitReady,
  type Proc,
} from '../support/processes.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

type LogLine = Record<string, unknown>;

const isLogLine = (value: unknown): value is LogLine => typeof value === 'object' && value !== null;

/** The JSON log lines a process wrote so far. */
function logLines(proc: Proc): LogLine[] {
  return proc.output
    .join('')
    .split('\n')
    .flatMap((line) => {
      try {
        const parsed: unknown = JSON.parse(line);
        return isLogLine(parsed) ? [parsed] : [];
      } catch {
        return [];
      }
    });
}

const isQuery = (span: ReceivedSpan): boolean =>
  span.kind === SpanKind.CLIENT &&
  (span.attributes['db.system'] === 'postgresql' ||
    span.attributes['db.system.name'] === 'postgresql');

function queryText(span: ReceivedSpan): string {
  const text = span.attributes['db.query.text'] ?? span.attributes['db.statement'];
  return typeof text === 'string' ? text : '';
}

/**
 * Traces, as deployed: the production bundle of the API (WORKERS=false, exporting OTLP
 * http/json) and of the worker (exporting http/protobuf), both configured only by OTEL_*
 * variables, export to an OTLP receiver the test runs on loopback. A request's trace holds
 * its server span, its queries and, linked, the runs of the jobs it queued, whichever
 * process runs them; log lines carry the trace id.
 */
describe('OpenTelemetry traces (e2e, built bundle)', () => {
  let otlp: OtlpReceiver;
  let hooks: WebhookReceiver;
  let stripe: FakeStripe;
  let api: Proc;
  let worker: Proc;
  let port: number;
  const base = (): string => `http://127.0.0.1:${port}/api/v1`;

  beforeAll(async () => {
    await ensureBuilt();
    otlp = await startOtlpReceiver();
    hooks = await startWebhookReceiver();
    stripe = await startFakeStripe();
    port = await freePort();
    const env = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      ...databaseEnv(),
      JWT_SECRET: randomBytes(32).toString('hex'),
      JOBS_SCHEMA: await freshJobsSchema(),
      WEBHOOKS_ALLOW_PRIVATE: 'true',
      RATE_LIMIT_PER_IP: '100000',
      RATE_LIMIT_PER_EMAIL: '100000',
      SHUTDOWN_DRAIN_MS: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      // Spans are exported in batches; a short delay keeps the test short.
      OTEL_BSP_SCHEDULE_DELAY: '200',
    };
    api = startProcess('api', 'dist/bundle/main.js', {
      ...env,
      PORT: String(port),
      WORKERS: 'false',
      STRIPE_SECRET_KEY: FAKE_STRIPE_SECRET_KEY,
      STRIPE_WEBHOOK_SECRET: FAKE_WEBHOOK_SECRET,
      STRIPE_API_URL: stripe.url,
      OTEL_SERVICE_NAME: 'nest-saas-api',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    worker = startProcess('worker', 'dist/bundle/worker.js', {
      ...env,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    });
    await waitReady(port, api);
  }, 360_000);

  afterAll(async () => {
    for (const proc of [api, worker]) {
      if (proc !== undefined && proc.child.exitCode === null) {
        proc.child.kill('SIGTERM');
        await proc.exited;
      }
    }
    await otlp?.close();
    await hooks?.close();
    await stripe?.close();
  }, 60_000);

  async function signUp(): Promise<{
    email: string;
    requestId: string;
    accessToken: string;
    teamId: number;
  }> {
    const email = uniqueEmail('trace');
    const res = await fetch(`${base()}/auth/sign-up`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'correct horse battery' }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { accessToken: string; team: { id: number } };
    return {
      email,
      requestId: res.headers.get('x-request-id') ?? '',
      accessToken: body.accessToken,
      teamId: body.team.id,
    };
  }

  async function verifyEmail(email: string): Promise<void> {
    const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await db.connect();
    try {
      await db.query('update users set email_verified_at = now() where email = $1', [email]);
    } finally {
      await db.end();
    }
  }

  /** The trace id on the completion line of the request with this id. */
  async function traceIdOfRequest(requestId: string): Promise<string> {
    return otlp.waitFor(`log line of request ${requestId}`, () => {
      const line = logLines(api).find(
        (l) =>
          (l.req as { id?: string } | undefined)?.id === requestId && l.msg === 'request completed',
      );
      return line?.trace_id as string | undefined;
    });
  }

  it('a sign-up is one trace: its request span, its queries and, linked, the mail job run by the worker', async () => {
    const { requestId } = await signUp();
    const traceId = await traceIdOfRequest(requestId);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    const request = await otlp.waitFor('sign-up request span', (spans) =>
      spans.find((s) => s.traceId === traceId && s.kind === SpanKind.SERVER),
    );
    expect(request.name).toBe('POST /api/v1/auth/sign-up');
    expect(request.attributes['http.route']).toBe('/api/v1/auth/sign-up');
    expect(request.parentSpanId).toBe('');
    expect(request.service).toBe('nest-saas-api');

    // Its queries, in its trace: the user row among them.
    const queries = otlp.spans.filter((s) => s.traceId === traceId && isQuery(s));
    expect(queries.some((q) => /insert into "users"/i.test(queryText(q)))).toBe(true);
    const inTrace = new Set(otlp.spans.filter((s) => s.traceId === traceId).map((s) => s.spanId));
    for (const query of queries) expect(inTrace.has(query.parentSpanId)).toBe(true);

    // The verification mail's job, run by the worker process (exported as protobuf): a
    // consumer span in the same trace, child of and linked to the request span.
    const job = await otlp.waitFor('mail job span', (spans) =>
      spans.find((s) => s.traceId === traceId && s.name === 'process mail.send'),
    );
    expect(job.kind).toBe(SpanKind.CONSUMER);
    expect(job.service).toBe('nest-saas');
    expect(job.parentSpanId).toBe(request.spanId);
    expect(job.links).toEqual([{ traceId, spanId: request.spanId }]);
    expect(job.attributes['messaging.destination.name']).toBe('mail.send');

    // Every line the API logged while serving the request carries its trace id, and so does
    // the worker's line for the mail (SMTP is not set: the mail is logged).
    const requestLines = logLines(api).filter(
      (l) => (l.req as { id?: string } | undefined)?.id === requestId,
    );
    expect(requestLines.length).toBeGreaterThan(0);
    for (const line of requestLines) expect(line.trace_id).toBe(traceId);
    await otlp.waitFor('the worker logging the mail in the trace', () =>
      logLines(worker).some((l) => l.trace_id === traceId),
    );

    // Both OTLP encodings arrived: JSON from the API, protobuf from the worker.
    const types = new Set(otlp.requests.map((r) => r.contentType.split(';')[0]));
    expect(types).toEqual(new Set(['application/json', 'application/x-protobuf']));
    expect(new Set(otlp.requests.map((r) => r.path))).toEqual(new Set(['/v1/traces']));
  });

  it('continues an incoming W3C traceparent', async () => {
    const { accessToken } = await signUp();
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const res = await fetch(`${base()}/users/me`, {
      headers: {
        authorization: `Bearer ${accessToken}`,
        traceparent: `00-${traceId}-${parentId}-01`,
      },
    });
    expect(res.status).toBe(200);
    const span = await otlp.waitFor('the continued request span', (spans) =>
      spans.find((s) => s.traceId === traceId && s.kind === SpanKind.SERVER),
    );
    expect(span.parentSpanId).toBe(parentId);
    expect(span.name).toBe('GET /api/v1/users/me');
    const queries = otlp.spans.filter((s) => s.traceId === traceId && isQuery(s));
    expect(queries.length).toBeGreaterThan(0);
  });

  it('a webhook delivery is a client span of the delivery job, in the trace of the change', async () => {
    const { email, accessToken, teamId } = await signUp();
    // Managing webhooks takes a verified address.
    await verifyEmail(email);
    const created = await fetch(`${base()}/teams/${teamId}/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: hooks.url('/traced'), events: ['team.updated'] }),
    });
    expect(created.status).toBe(201);
    const renamed = await fetch(`${base()}/teams/${teamId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Traced team' }),
    });
    expect(renamed.status).toBe(200);
    const traceId = await traceIdOfRequest(renamed.headers.get('x-request-id') ?? '');

    const request = await otlp.waitFor('the rename request span', (spans) =>
      spans.find((s) => s.traceId === traceId && s.kind === SpanKind.SERVER),
    );
    expect(request.name).toBe('PATCH /api/v1/teams/:teamId');
    const job = await otlp.waitFor('the delivery job span', (spans) =>
      spans.find((s) => s.traceId === traceId && s.name === 'process webhooks.deliver'),
    );
    expect(job.links).toEqual([{ traceId, spanId: request.spanId }]);
    const delivery = await otlp.waitFor('the delivery client span', (spans) =>
      spans.find(
        (s) =>
          s.traceId === traceId &&
          s.kind === SpanKind.CLIENT &&
          s.parentSpanId === job.spanId &&
          String(s.attributes['url.full'] ?? s.attributes['http.url']).endsWith('/traced'),
      ),
    );
    expect(delivery.name).toMatch(/^POST/);
    expect(delivery.service).toBe('nest-saas');
    // The receiving end was handed the trace too.
    const received = hooks.on('/traced');
    expect(received).toHaveLength(1);
    expect(received[0]!.headers.traceparent).toMatch(
      new RegExp(`^00-${traceId}-${delivery.spanId}-0[01]$`),
    );
  });

  it('a Stripe API call is a client span of the request that made it', async () => {
    const price = stripe.createPlan({ name: 'Traced', amount: 900 }).price.id as string;
    const { email, accessToken, teamId } = await signUp();
    await verifyEmail(email);
    const res = await fetch(`${base()}/teams/${teamId}/billing/checkout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ priceId: price }),
    });
    expect(res.status).toBe(200);
    const traceId = await traceIdOfRequest(res.headers.get('x-request-id') ?? '');
    const request = await otlp.waitFor('the checkout request span', (spans) =>
      spans.find((s) => s.traceId === traceId && s.kind === SpanKind.SERVER),
    );
    expect(request.name).toBe('POST /api/v1/teams/:teamId/billing/checkout');
    const sessionCall = await otlp.waitFor('the checkout session call to Stripe', (spans) =>
      spans.find(
        (s) =>
          s.traceId === traceId &&
          s.kind === SpanKind.CLIENT &&
          String(s.attributes['url.full'] ?? s.attributes['http.url']).startsWith(
            `${stripe.url}/v1/checkout/sessions`,
          ),
      ),
    );
    expect(sessionCall.name).toMatch(/^POST/);
    const inTrace = new Set(otlp.spans.filter((s) => s.traceId === traceId).map((s) => s.spanId));
    expect(inTrace.has(sessionCall.parentSpanId)).toBe(true);
  });
});
