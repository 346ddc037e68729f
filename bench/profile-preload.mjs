// Loaded with `node --import` into the app when BENCH_PROFILE=1. Samples the CPU from the
// start; each SIGWINCH (a signal Nest does not treat as shutdown, unlike SIGUSR2) writes what was sampled since the previous one (or since start) to
// $BENCH_PROFILE_DIR/<$BENCH_PROFILE_NAME, default app>-<pid>-<n>.cpuprofile and starts over, so the bench can separate
// start-up from load. (node --cpu-prof only writes on a normal exit, and Nest's SIGTERM
// handling re-raises the signal.) Open the files in Chrome DevTools or speedscope, or run
// bench/profile-summary.ts on them.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const session = new Session();
session.connect();
let n = 0;
const start = () => session.post('Profiler.start');
session.post('Profiler.enable', () =>
  session.post('Profiler.setSamplingInterval', { interval: 250 }, start),
);
process.on('SIGWINCH', () => {
  session.post('Profiler.stop', (error, result) => {
    if (!error) {
      const dir = process.env.BENCH_PROFILE_DIR ?? '.';
      writeFileSync(
        join(dir, `${process.env.BENCH_PROFILE_NAME ?? 'app'}-${process.pid}-${++n}.cpuprofile`),
        JSON.stringify(result.profile),
      );
    }
    start();
  });
});
