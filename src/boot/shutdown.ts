import { Logger } from '@nestjs/common';
import { flushLogs } from '../common/logging/logging.module.js';
import { shutdownTracing } from '../common/tracing/tracing.js';

const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Ctrl-C / SIGTERM for an entry point (server.ts, worker-app.ts): logs that the signal came (with
 * `plan`, what stopping will do, e.g. the drain window), runs `stop` once (the app closes
 * (in-flight requests and jobs finish, the pool closes), then whatever the entry point started
 * besides), exports the spans still buffered (with tracing on), logs that it stopped and how
 * long that took, then the process ends by the same signal; a failed stop is logged and exits
 * with code 1.
 */
export function stopOnSignal(stop: () => Promise<void>, plan = 'stopping'): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    const logger = new Logger('Shutdown');
    const started = performance.now();
    logger.log(`${signal} received: ${plan}`);
    void (async () => {
      try {
        await stop();
        await shutdownTracing();
      } catch (error) {
        logger.error(error instanceof Error ? (error.stack ?? error.message) : error);
        process.exit(1);
      }
      logger.log(`stopped in ${Math.round(performance.now() - started)} ms`);
      await flushLogs();
      for (const name of SHUTDOWN_SIGNALS) process.removeListener(name, onSignal);
      process.kill(process.pid, signal);
    })();
  };
  for (const name of SHUTDOWN_SIGNALS) process.on(name, onSignal);
}
