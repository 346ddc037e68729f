// The sign-in reference: bare argon2id verifies of a real hash at the app's parameters
// (ARGON2_OPTIONS, passed in by bench/run.ts) with the app's concurrency cap
// (2 at once), for a fixed time. Prints one JSON line: { count, seconds, perSecond, p50, p99 }.
// Usage: node bench/argon2-loop.mjs <seconds> <concurrency> '<ARGON2_OPTIONS as JSON>'
import { performance } from 'node:perf_hooks';
import argon2 from 'argon2';

const seconds = Number(process.argv[2] ?? 5);
const concurrency = Number(process.argv[3] ?? 2);
const options = JSON.parse(process.argv[4] ?? 'null');
if (typeof options?.memoryCost !== 'number') throw new Error('pass the argon2 options as JSON');
if (!(seconds > 0 && seconds <= 600) || !(concurrency >= 1 && concurrency <= 64)) {
  throw new Error('usage: argon2-loop.mjs <seconds 0..600> [concurrency 1..64]');
}
const password = 'bench-password-1';
const hash = await argon2.hash(password, options);
await argon2.verify(hash, password);

const latencies = [];
const start = performance.now();
const end = start + seconds * 1000;
async function worker() {
  while (performance.now() < end) {
    const t = performance.now();
    if (!(await argon2.verify(hash, password))) throw new Error('verify returned false');
    latencies.push(performance.now() - t);
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const elapsed = (performance.now() - start) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p) =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
process.stdout.write(
  `${JSON.stringify({ count: latencies.length, seconds: elapsed, perSecond: latencies.length / elapsed, p50: pct(50), p99: pct(99) })}\n`,
);
