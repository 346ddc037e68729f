import type { MetricValueWithName, Registry } from 'prom-client';

/** One label set's counts: per bucket (not cumulative), their sum and their count. */
export class Series {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    buckets: number,
  ) {
    this.counts = new Float64Array(buckets);
  }
}

type SeriesTree = Map<string, SeriesTree> | Series;

/** What `get` returns: prom-client's `MetricObjectWithValues`, without a collect function. */
export interface LeanHistogramValues {
  name: string;
  help: string;
  type: 'histogram';
  values: MetricValueWithName<string>[];
  aggregator: 'sum';
}

/**
 * A Prometheus histogram for the per-request hot path, registered in a prom-client registry,
 * which writes it out with the app's other metrics.
 *
 * Why not prom-client's Histogram there: its `observe` builds a closure, validates the labels,
 * joins them into a string key and looks the series up by it, and finds the bucket by the
 * bound as a property name, on every call. The metrics-on app spent 3.5 % of its CPU in it
 * (three observes per team read: the request and its two queries; bench/RESULTS.md item 26).
 * Here `series` finds a label set's series by its values (in `labelNames`' order) through one
 * Map per label, building nothing once it exists, and `observe` is a loop over the bounds
 * and three additions. `get` returns what prom-client's Histogram returns (its exposition is checked
 * against prom-client's own in the unit spec), so the output, `_bucket` (cumulative, with
 * `le`), `_sum` and `_count` per series, is the same.
 */
export class LeanHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: Float64Array;
  /** The series by their label values, one Map level per label (no key to build per call). */
  private readonly tree = new Map<string, SeriesTree>();
  private readonly all: Series[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    buckets: readonly number[],
    registry: Registry,
  ) {
    this.bounds = Float64Array.from([...buckets].sort((a, b) => a - b));
    registry.registerMetric(this as never);
  }

  /** The series of these label values (in `labelNames`' order), created on first use. */
  series(...values: string[]): Series {
    if (values.length !== this.labelNames.length) {
      throw new Error(`${this.name}: expected ${this.labelNames.length} label values`);
    }
    let level = this.tree;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      let next = level.get(values[i]!) as Map<string, SeriesTree> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(values[i]!, next);
      }
      level = next;
    }
    let series = level.get(values[last]!) as Series | undefined;
    if (series === undefined) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => (labels[name] = values[i]!));
      series = new Series(labels, this.bounds.length);
      level.set(values[last]!, series);
      this.all.push(series);
    }
    return series;
  }

  observe(series: Series, value: number): void {
    if (!Number.isFinite(value)) return;
    const { bounds } = this;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        series.counts[i]! += 1;
        break;
      }
    }
    series.sum += value;
    series.count += 1;
  }

  /** prom-client's metric contract: what a scrape writes out (as its Histogram's `get`). */
  get(): Promise<LeanHistogramValues> {
    const values: MetricValueWithName<string>[] = [];
    const bucket = `${this.name}_bucket`;
    for (const series of this.all) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += series.counts[i]!;
        values.push({ metricName: bucket, labels: { le, ...series.labels }, value: cumulative });
      });
      values.push(
        { metricName: bucket, labels: { le: '+Inf', ...series.labels }, value: series.count },
        { metricName: `${this.name}_sum`, labels: { ...series.labels }, value: series.sum },
        { metricName: `${this.name}_count`, labels: { ...series.labels }, value: series.count },
      );
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    });
  }
}
