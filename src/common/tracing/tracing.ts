/**
 * The app's side of tracing, free of OpenTelemetry: the code that carries a trace across a
 * job queue, or stamps `trace_id` on log lines, calls these functions. They do nothing until
 * the OpenTelemetry SDK, loaded only when OTEL_EXPORTER_OTLP_ENDPOINT is set, installs its
 * implementation (src/boot/tracing.ts); so with tracing off no OpenTelemetry code runs.
 */

/** A W3C trace context as carried in a job's data (`traceparent`, and `tracestate` if any). */
export type TraceCarrier = Record<string, string>;

/** What a job run's span is named and described by. */
export interface TracedJob {
  name: string;
  id: string;
  retryCount: number;
}

export interface Tracing {
  /** The trace id of the active span, if any. */
  traceId(): string | undefined;
  /** The active span's trace context, to carry to work that runs later (a job). */
  carrier(): TraceCarrier | undefined;
  /**
   * Runs a job attempt inside its own span, in the trace of (and linked to) the span that
   * queued it when `queuedBy` carries one.
   */
  runJob<R>(job: TracedJob, queuedBy: TraceCarrier | undefined, run: () => Promise<R>): Promise<R>;
  /** Exports what is buffered and stops; at shutdown. */
  shutdown(): Promise<void>;
}

/** The key under which a queued job's data carries the trace context of whoever queued it. */
export const TRACE_CONTEXT_KEY = '_traceContext';

let installed: Tracing | undefined;

export function installTracing(tracing: Tracing): void {
  installed = tracing;
}

export function tracingInstalled(): boolean {
  return installed !== undefined;
}

/** See Tracing.carrier; undefined with tracing off. */
export function traceCarrier(): TraceCarrier | undefined {
  return installed?.carrier();
}

/** See Tracing.runJob; with tracing off, just `run()`. */
export function runTracedJob<R>(
  job: TracedJob,
  queuedBy: TraceCarrier | undefined,
  run: () => Promise<R>,
): Promise<R> {
  return installed === undefined ? run() : installed.runJob(job, queuedBy, run);
}

export async function shutdownTracing(): Promise<void> {
  await installed?.shutdown();
}

/**
 * pino's `mixin` option: `trace_id` on every line logged inside a span (a request, a job run).
 * Undefined, so no mixin at all, with tracing off.
 */
export function traceLogMixin(): (() => { trace_id?: string }) | undefined {
  const tracing = installed;
  if (tracing === undefined) return undefined;
  return () => {
    const traceId = tracing.traceId();
    return traceId === undefined ? {} : { trace_id: traceId };
  };
}
