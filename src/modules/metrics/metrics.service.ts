import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type pg from 'pg';
import type { Counter, Histogram, Registry } from 'prom-client';
import { AppConfig } from '../../config/app-config.js';
import { PG_POOL } from '../../database/database.tokens.js';
import { isAdminRequest } from '../../common/http/admin-path.js';
import { JobsService } from '../jobs/jobs.service.js';

/** Request durations: 5 ms to 10 s, the range between a cached read and the statement timeout. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const QUERY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 10];

type QueryFn = (...args: unknown[]) => unknown;

/** When the request observer started timing a request (performance.now()), on the Node request. */
const STARTED = Symbol('metricsStarted');
type TimedRequest = IncomingMessage & { [STARTED]?: number };

/** The app's metrics, on a registry of its own. */
interface Instruments {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  rateLimited: Counter<'route'>;
  queryDuration: Histogram<'outcome'>;
}

/**
 * The app's Prometheus metrics (prom-client), on a registry of its own (never prom-client's
 * global one, so several apps in one process — the test suites — do not collide).
 *
 * Collected only when METRICS_TOKEN is set (`enabled`): otherwise prom-client is not even
 * imported, the request observer is not installed, no pool hook is added and `/metrics`
 * answers 404, so an unscraped instance pays nothing for it. When enabled, prom-client is
 * imported and the metrics registered by `onModuleInit`, before the app listens.
 *
 * Label cardinality is bounded: `route` is the matched route *template* (`/api/v1/teams/:teamId`),
 * never the raw URL; requests no route matched share `route="unmatched"`, and the admin panel's
 * many paths share `route="/admin"`.
 */
@Injectable()
export class MetricsService implements OnModuleInit {
  readonly enabled: boolean;
  private instruments: Instruments | undefined;
  /** Requests being served: counted here, read by the gauge when scraped. */
  private inFlight = 0;

  constructor(
    config: AppConfig,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly jobs: JobsService,
  ) {
    this.enabled = config.metricsToken !== undefined;
    // From the start, so that no pooled connection escapes it; queries are timed once the
    // histogram exists (onModuleInit).
    if (this.enabled) pool.on('connect', (client) => this.timeQueries(client));
  }

  async onModuleInit(): Promise<void> {
    if (!this.enabled) return;
    const prom = await import('prom-client');
    const registry = new prom.Registry();
    const registers = [registry];
    const { pool, jobs } = this;
    this.instruments = {
      registry,
      httpDuration: new prom.Histogram({
        name: 'http_request_duration_seconds',
        help: 'HTTP request duration by route template, method and status code (499: the client went away first)',
        labelNames: ['method', 'route', 'status'],
        buckets: HTTP_BUCKETS,
        registers,
      }),
      rateLimited: new prom.Counter({
        name: 'http_rate_limited_total',
        help: 'Requests refused with 429 by a rate limit, by route template',
        labelNames: ['route'],
        registers,
      }),
      queryDuration: new prom.Histogram({
        name: 'db_query_duration_seconds',
        help: 'PostgreSQL query duration (client side, including the network), by outcome',
        labelNames: ['outcome'],
        buckets: QUERY_BUCKETS,
        registers,
      }),
    };
    const inFlight = (): number => this.inFlight;
    new prom.Gauge({
      name: 'http_requests_in_flight',
      help: 'HTTP requests being served',
      registers,
      collect() {
        this.set(inFlight());
      },
    });
    new prom.Gauge({
      name: 'db_pool_connections',
      help: 'Connections in the PostgreSQL pool, by state (total, idle)',
      labelNames: ['state'],
      registers,
      collect() {
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
      },
    });
    new prom.Gauge({
      name: 'db_pool_waiting_requests',
      help: 'Queries waiting for a free pooled connection',
      registers,
      collect() {
        this.set(pool.waitingCount);
      },
    });
    new prom.Gauge({
      name: 'jobs_queue_jobs',
      help: 'Background jobs by queue and state (created/retry: waiting; failed: out of retries)',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        this.reset();
        for (const row of await jobs.stateCounts()) {
          this.set({ queue: row.queue, state: row.state }, row.count);
        }
      },
    });
    prom.collectDefaultMetrics({ register: registry });
  }

  /**
   * Times every request from arrival to the end of its response, in Fastify's hooks:
   * `start` from the app's first `onRequest` hook (configureApp), `finish` from its
   * `onResponse` hook (run when the response has been sent, the admin panel's included) and
   * from its `onRequestAbort` hook (a client that went away first). The route template is read
   * at the end, after routing. Installed before the app's init, it counts from the first
   * request (which comes after init).
   */
  requestObserver(): RequestObserver {
    return {
      start: (request) => {
        if (this.instruments === undefined) return;
        this.inFlight++;
        (request.raw as TimedRequest)[STARTED] = performance.now();
      },
      finish: (request, statusCode) => {
        const instruments = this.instruments;
        const raw = request.raw as TimedRequest;
        const start = raw[STARTED];
        // Once per request: a response can still fail after its client went away.
        if (instruments === undefined || start === undefined) return;
        raw[STARTED] = undefined;
        this.inFlight--;
        const route = routeTemplate(raw, request);
        instruments.httpDuration.observe(
          { method: raw.method ?? 'GET', route, status: String(statusCode) },
          (performance.now() - start) / 1000,
        );
        if (statusCode === 429) instruments.rateLimited.inc({ route });
      },
    };
  }

  async render(): Promise<string> {
    return this.ready().registry.metrics();
  }

  get contentType(): string {
    return this.ready().registry.contentType;
  }

  private ready(): Instruments {
    if (this.instruments === undefined) throw new Error('metrics are off (METRICS_TOKEN unset)');
    return this.instruments;
  }

  /**
   * Wraps a new pooled client's `query` to time each query, whichever way it is called: with a
   * callback (pg-pool's `pool.query`, which the app's reads outside transactions go through)
   * or for a promise (a checked-out client: transactions).
   */
  private timeQueries(client: pg.PoolClient): void {
    const original = client.query.bind(client) as QueryFn;
    (client as unknown as { query: QueryFn }).query = (...args: unknown[]) => {
      const instruments = this.instruments;
      if (instruments === undefined) return original(...args);
      const start = performance.now();
      const observe = (failed: boolean) =>
        instruments.queryDuration.observe(
          { outcome: failed ? 'error' : 'ok' },
          (performance.now() - start) / 1000,
        );
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === 'function') {
        args[last] = (error: unknown, result: unknown) => {
          observe(Boolean(error));
          (callback as (error: unknown, result: unknown) => void)(error, result);
        };
        return original(...args);
      }
      const result = original(...args);
      if (!(result instanceof Promise)) return result;
      return result.then(
        (value: unknown) => {
          observe(false);
          return value;
        },
        (error: unknown) => {
          observe(true);
          throw error;
        },
      );
    };
  }
}

/** Fastify's request, as the request observer reads it. */
export interface ObservedRequest {
  raw: IncomingMessage;
  is404?: boolean;
  routeOptions?: { url?: string };
}

/** The request observer's two ends (see `requestObserver`). */
export interface RequestObserver {
  start(request: ObservedRequest): void;
  finish(request: ObservedRequest, statusCode: number): void;
}

function routeTemplate(req: IncomingMessage, request: ObservedRequest): string {
  if (isAdminRequest(req)) return '/admin';
  // Unknown paths reach Fastify's not-found handler; a wildcard route (the CORS preflight's
  // `OPTIONS *`) has no template worth a label either.
  const url = request.is404 === true ? undefined : request.routeOptions?.url;
  if (url !== undefined && url !== '' && !url.includes('*')) return url;
  return 'unmatched';
}
