import { describe, expect, it } from '@jest/globals';
import { Histogram, Registry } from 'prom-client';
import { LeanHistogram } from './lean-histogram.js';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The same observations on prom-client's Histogram and on a LeanHistogram, each in a registry. */
async function both(
  observations: [method: string, route: string, status: string, seconds: number][],
): Promise<{ prom: string; lean: string; promJson: unknown; leanJson: unknown }> {
  const promRegistry = new Registry();
  const leanRegistry = new Registry();
  const help = 'HTTP request duration by route template, method and status code';
  const labelNames = ['method', 'route', 'status'] as const;
  const prom = new Histogram({
    name: 'http_request_duration_seconds',
    help,
    labelNames,
    buckets: BUCKETS,
    registers: [promRegistry],
  });
  const lean = new LeanHistogram(
    'http_request_duration_seconds',
    help,
    labelNames,
    BUCKETS,
    leanRegistry,
  );
  for (const [method, route, status, seconds] of observations) {
    prom.observe({ method, route, status }, seconds);
    lean.observe(lean.series(method, route, status), seconds);
  }
  return {
    prom: await promRegistry.metrics(),
    lean: await leanRegistry.metrics(),
    promJson: await promRegistry.getMetricsAsJSON(),
    leanJson: await leanRegistry.getMetricsAsJSON(),
  };
}

function withoutExemplars(json: unknown): unknown {
  return (json as { values: Record<string, unknown>[] }[]).map((metric) => ({
    ...metric,
    values: metric.values.map(({ exemplar: _exemplar, ...value }) => value),
  }));
}

describe('LeanHistogram', () => {
  it("writes exactly what prom-client's Histogram writes for the same observations", async () => {
    const out = await both([
      ['GET', '/api/v1/teams/:teamId', '200', 0.0042],
      ['GET', '/api/v1/teams/:teamId', '200', 0.005], // on a bound: counted in it (le)
      ['GET', '/api/v1/teams/:teamId', '200', 0.3],
      ['GET', '/api/v1/teams/:teamId', '401', 0.001],
      ['PATCH', '/api/v1/teams/:teamId', '200', 12], // above every bound: only in +Inf
      ['GET', 'route "with" \\ quotes\n', '404', 0.02], // label values escaped alike
    ]);
    expect(out.lean).toBe(out.prom);
    // The JSON form too (prom-client's carries an empty `exemplar` per value; we keep none).
    expect(out.leanJson).toEqual(withoutExemplars(out.promJson));
    expect(out.lean).toContain(
      'http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/v1/teams/:teamId",status="200"} 2',
    );
    expect(out.lean).toContain(
      'http_request_duration_seconds_count{method="PATCH",route="/api/v1/teams/:teamId",status="200"} 1',
    );
  });

  it('writes only its header before the first observation, as prom-client does', async () => {
    const out = await both([]);
    expect(out.lean).toBe(out.prom);
  });

  it('keeps one series per label set, and refuses a wrong number of label values', () => {
    const lean = new LeanHistogram('h', 'h', ['a', 'b'], [1], new Registry());
    expect(lean.series('x', 'y')).toBe(lean.series('x', 'y'));
    expect(lean.series('x', 'y')).not.toBe(lean.series('x', 'z'));
    expect(() => lean.series('x')).toThrow('expected 2 label values');
  });

  it('ignores a value that is not a finite number instead of corrupting the sum', () => {
    const lean = new LeanHistogram('h', 'h', ['a'], [1], new Registry());
    const series = lean.series('x');
    lean.observe(series, Number.NaN);
    lean.observe(series, 0.5);
    expect({ count: series.count, sum: series.sum }).toEqual({ count: 1, sum: 0.5 });
  });
});
