import { describe, expect, it } from '@jest/globals';
import { tracingSettings } from './tracing-config.js';

describe('tracingSettings', () => {
  const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };

  it('is off without an OTLP endpoint, whatever else is set', () => {
    expect(tracingSettings({})).toBeNull();
    expect(
      tracingSettings({ OTEL_SERVICE_NAME: 'api', OTEL_EXPORTER_OTLP_ENDPOINT: ' ' }),
    ).toBeNull();
  });

  it('is on with the shared or the traces-only endpoint', () => {
    expect(tracingSettings(endpoint)).toEqual({
      defaultServiceName: 'nest-saas',
      metrics: false,
      logs: false,
    });
    expect(
      tracingSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }),
    ).not.toBeNull();
  });

  it('stays off when the SDK or the trace exporter is switched off the standard ways', () => {
    expect(tracingSettings({ ...endpoint, OTEL_SDK_DISABLED: 'TRUE' })).toBeNull();
    expect(tracingSettings({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' })).toBeNull();
    expect(tracingSettings({ ...endpoint, OTEL_SDK_DISABLED: 'false' })).not.toBeNull();
  });

  it('names the service only when the standard variables do not', () => {
    expect(tracingSettings({ ...endpoint, OTEL_SERVICE_NAME: 'api' })?.defaultServiceName).toBe(
      undefined,
    );
    expect(
      tracingSettings({ ...endpoint, OTEL_RESOURCE_ATTRIBUTES: 'env=prod, service.name=api' })
        ?.defaultServiceName,
    ).toBe(undefined);
    expect(
      tracingSettings({ ...endpoint, OTEL_RESOURCE_ATTRIBUTES: 'service.namespace=saas' })
        ?.defaultServiceName,
    ).toBe('nest-saas');
  });

  it('leaves OTLP metrics and logs to the SDK only when asked for', () => {
    expect(
      tracingSettings({ ...endpoint, OTEL_METRICS_EXPORTER: 'otlp', OTEL_LOGS_EXPORTER: 'otlp' }),
    ).toMatchObject({ metrics: true, logs: true });
  });
});
