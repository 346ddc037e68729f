import autocannon from 'autocannon';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface LoadRequest {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** A fresh body for every send (writes that must change something each time); n counts sends. */
  bodyFor?: (n: number) => string;
}

let sends = 0;

export interface LoadOptions {
  /** Base URL of the server. */
  url: string;
  requests: LoadRequest[];
  connections: number;
  seconds: number;
  /** Fixed total request rate (open-ish model) instead of as fast as possible. */
  rate?: number;
  /** The server's pid: its CPU time during the run is recorded. */
  pid?: number;
}

export interface LoadSample {
  ok: number;
  failed: number;
  errors: number;
  seconds: number;
  /** Response time of every 2xx response, in ms (autocannon's own histogram rounds to 1 ms). */
  latencies: number[];
  /** CPU time (user + system) the server process used during the run, in ms. */
  cpuMs: number;
}

/** Drives one server with autocannon on loopback; the request list is cycled per connection. */
export async function load(options: LoadOptions): Promise<LoadSample> {
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  const cpuBefore = cpuTimeMs(options.pid);
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    pipelining: 1,
    duration: options.seconds,
    timeout: 30,
    ...(options.rate === undefined ? {} : { overallRate: options.rate }),
    requests: options.requests.map((r) => {
      const { bodyFor } = r;
      return {
        method: r.method,
        path: r.path,
        headers: {
          ...(r.body === undefined && bodyFor === undefined
            ? {}
            : { 'content-type': 'application/json' }),
          ...r.headers,
        },
        ...(r.body === undefined ? {} : { body: r.body }),
        ...(bodyFor === undefined
          ? {}
          : { setupRequest: (req: object) => ({ ...req, body: bodyFor(sends++) }) }),
      };
    }),
  });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) {
      ok++;
      latencies.push(responseTime);
    } else {
      failed++;
    }
  });
  const result = await instance;
  return {
    ok,
    failed,
    errors: result.errors + result.timeouts,
    seconds: (performance.now() - started) / 1000,
    latencies,
    cpuMs: cpuTimeMs(options.pid) - cpuBefore,
  };
}

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on Linux

/** utime + stime of a process from /proc/<pid>/stat, in ms (0 where /proc is unavailable). */
export function cpuTimeMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/**
 * CPU time (ms) of a process and its children, e.g. a PostgreSQL postmaster and its backends
 * (one process per connection, which come and go with the pools' connections): the live
 * children's own time plus the root's, with that of the children it has already reaped
 * (cutime + cstime), so a backend ending mid-window loses nothing.
 */
export function treeCpuTimeMs(pid: number): number {
  let total = 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime: fields 14–17.
    total +=
      ((Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * 1000) /
      TICKS_PER_SECOND;
  } catch {
    return 0;
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) {
        total += ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
      }
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export interface Summary {
  rps: number;
  /** req/s of each round, to show the spread. */
  rounds: number[];
  p50: number;
  p99: number;
  requests: number;
  failed: number;
  errors: number;
  /** Server CPU time per successful request, in microseconds. */
  cpuUsPerRequest: number;
}

/** Rounds pooled: req/s is the mean over rounds, percentiles over every latency sample. */
export function summarize(samples: LoadSample[]): Summary {
  const rounds = samples.map((s) => s.ok / s.seconds);
  const all = samples.flatMap((s) => s.latencies).sort((a, b) => a - b);
  return {
    rps: rounds.reduce((a, b) => a + b, 0) / Math.max(1, rounds.length),
    rounds,
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    requests: samples.reduce((a, s) => a + s.ok, 0),
    failed: samples.reduce((a, s) => a + s.failed, 0),
    errors: samples.reduce((a, s) => a + s.errors, 0),
    cpuUsPerRequest:
      (1000 * samples.reduce((a, s) => a + s.cpuMs, 0)) /
      Math.max(
        1,
        samples.reduce((a, s) => a + s.ok, 0),
      ),
  };
}
