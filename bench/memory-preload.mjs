// Loaded with `node --import` into every app process the bench starts: samples
// process.memoryUsage() every 250 ms and writes the highest values seen (MB) to
// $BENCH_MEMORY_FILE once a second, so the bench can say what a peak RSS is made of (V8 heap,
// external/ArrayBuffers, the rest: code, native modules, thread stacks, malloc arenas).
import { writeFileSync } from 'node:fs';
import { setInterval } from 'node:timers';

const file = process.env.BENCH_MEMORY_FILE;
if (file) {
  const peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  const mb = (n) => Math.round((n / 1048576) * 10) / 10;
  let ticks = 0;
  setInterval(() => {
    const now = process.memoryUsage();
    for (const key of Object.keys(peak)) peak[key] = Math.max(peak[key], mb(now[key]));
    if (++ticks % 4 === 0) writeFileSync(file, JSON.stringify(peak));
  }, 250).unref();
}
