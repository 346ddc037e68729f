import { existsSync } from 'node:fs';

/** What the OpenTelemetry SDK is started with; the SDK itself reads every other OTEL_* variable. */
export interface TracingSettings {
  /** service.name when neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES names one. */
  defaultServiceName: string | undefined;
  /** OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER were set: leave those signals to the SDK. */
  metrics: boolean;
  logs: boolean;
}

const set = (value: string | undefined): boolean => value !== undefined && value.trim() !== '';

/**
 * Tracing is on when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT, or the traces-only
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and not switched off the standard ways
 * (OTEL_SDK_DISABLED=true, OTEL_TRACES_EXPORTER=none). Returns null when off: the entry points
 * then load no OpenTelemetry code at all.
 *
 * Read by the entry points before the app's config exists (the SDK must be running before the
 * instrumented modules load), so `.env` is loaded here too (loadConfigOrExit loads it again,
 * which changes nothing).
 *
 * Metrics and logs: the app already serves Prometheus metrics (GET /metrics) and writes its
 * logs to stdout, so the SDK's OTLP metric and log exporters, which it would start by default
 * next to the traces, stay off unless OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER ask for them.
 */
export function tracingSettings(env: NodeJS.ProcessEnv = loadEnvFile()): TracingSettings | null {
  const endpoint =
    set(env.OTEL_EXPORTER_OTLP_ENDPOINT) || set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  if (!endpoint) return null;
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return null;
  if (env.OTEL_TRACES_EXPORTER?.split(',').some((name) => name.trim() === 'none')) return null;
  const named =
    set(env.OTEL_SERVICE_NAME) ||
    (env.OTEL_RESOURCE_ATTRIBUTES ?? '')
      .split(',')
      .some((pair) => /^\s*service\.name\s*=/.test(pair));
  return {
    defaultServiceName: named ? undefined : 'nest-saas',
    metrics: set(env.OTEL_METRICS_EXPORTER),
    logs: set(env.OTEL_LOGS_EXPORTER),
  };
}

function loadEnvFile(): NodeJS.ProcessEnv {
  if (existsSync('.env')) process.loadEnvFile('.env');
  return process.env;
}
