import diagnostics from 'node:diagnostics_channel';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Link,
} from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { FastifyInstance } from 'fastify';
import { installTracing, type TraceCarrier } from '../common/tracing/tracing.js';
import type { TracingSettings } from '../config/tracing-config.js';

/** Probes a balancer or an orchestrator sends every few seconds: not worth a trace each. */
const UNTRACED_PATHS = new Set(['/health', '/health/ready']);

/**
 * Starts the OpenTelemetry SDK (traces only, see tracingSettings), configured by the standard
 * OTEL_* variables: the exporter and its protocol (`http/protobuf`, the default, `http/json`
 * or `grpc`), endpoint, headers, service name and resource, sampler, propagators, batching.
 * The entry points (main.ts, worker.ts) import this module, and only when tracing is on,
 * before the app's own modules, which is what lets the instrumentations see them load:
 *
 * - HTTP (@opentelemetry/instrumentation-http): a SERVER span per request, continuing an
 *   incoming W3C `traceparent`, and a CLIENT span per outgoing request: each webhook delivery
 *   and Stripe API call (both go through node:http/https).
 * - PostgreSQL (@opentelemetry/instrumentation-pg): a span per query and per pool connect,
 *   inside a request or job span only (requireParentSpan), so the job queue's polling does
 *   not start a trace every second.
 *
 * Both patch CommonJS modules as `require` loads them: node:http, and pg's client, which pg
 * requires from its own index (pg is outside the bundle, see cli/bundle.ts, as are the
 * @opentelemetry packages). Nothing here needs ESM loader hooks.
 *
 * The request span is named `METHOD /route/template` from Fastify's route: Fastify announces
 * each new instance on its `fastify.initialization` diagnostics channel, and a hook added there
 * hands the matched route to the HTTP instrumentation (its RPC metadata, the same hand-over
 * the framework instrumentations use), which renames the span and sets `http.route` when the
 * response ends. (The Fastify instrumentation of OpenTelemetry's contrib repository is
 * deprecated and its successor, @fastify/otel, is built on another release of the SDK.)
 */
export function startTracing(settings: TracingSettings): void {
  const sdk = new NodeSDK({
    ...(settings.defaultServiceName === undefined
      ? {}
      : { serviceName: settings.defaultServiceName }),
    ...(settings.metrics ? {} : { metricReaders: [] }),
    ...(settings.logs ? {} : { logRecordProcessors: [] }),
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) =>
          UNTRACED_PATHS.has((request.url ?? '').split('?', 1)[0]!),
      }),
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  diagnostics.subscribe('fastify.initialization', (message) => {
    const { fastify } = message as { fastify: FastifyInstance };
    fastify.addHook('onRequest', (request, _reply, done) => {
      const route = request.routeOptions.url;
      const rpc = getRPCMetadata(context.active());
      if (route !== undefined && rpc?.type === RPCType.HTTP) rpc.route = route;
      done();
    });
  });

  const tracer = trace.getTracer('nest-saas');
  installTracing({
    traceId: () => trace.getActiveSpan()?.spanContext().traceId,
    carrier() {
      if (trace.getActiveSpan() === undefined) return undefined;
      const carrier: TraceCarrier = {};
      propagation.inject(context.active(), carrier);
      return carrier;
    },
    // A job runs in the trace of the request (or job) that queued it, as a child of the span
    // active when it was queued, and links to that span: the link is what the OpenTelemetry
    // messaging conventions ask of a consumer; the parent keeps the trace in one piece.
    runJob(job, queuedBy, run) {
      const parent =
        queuedBy === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, queuedBy);
      const queuer = trace.getSpanContext(parent);
      const links: Link[] = queuer === undefined ? [] : [{ context: queuer }];
      return tracer.startActiveSpan(
        `process ${job.name}`,
        {
          kind: SpanKind.CONSUMER,
          links,
          attributes: {
            'messaging.system': 'pg-boss',
            'messaging.operation.type': 'process',
            'messaging.destination.name': job.name,
            'messaging.message.id': job.id,
            'messaging.pg_boss.retry_count': job.retryCount,
          },
        },
        parent,
        async (span) => {
          try {
            return await run();
          } catch (error) {
            span.recordException(error instanceof Error ? error : String(error));
            span.setStatus({ code: SpanStatusCode.ERROR });
            throw error;
          } finally {
            span.end();
          }
        },
      );
    },
    shutdown: () => sdk.shutdown(),
  });
}
