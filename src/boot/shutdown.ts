import { Logger } from '@nestjs/common';
import { shutdownTracing } from '../common/tracing/tracing.js';

const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Ctrl-C / SIGTERM for an entry point (server.ts, worker-app.ts): runs `stop` once (the app closes
 * (in-flight requests and jobs finish, the pool closes), then whatever the entry point started
 * besides) and the spans still buffered are exported (with tracing on), then the process ends
 * by the same signal; a failed stop exits with code 1.
 */
export function stopOnSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      try {
        await stop();
        await shutdownTracing();
      } catch (error) {
        new Logger('Shutdown').error(
          error instanceof Error ? (error.stack ?? error.message) : error,
        );
        process.exit(1);
      }
      for (const name of SHUTDOWN_SIGNALS) process.removeListener(name, onSignal);
      process.kill(process.pid, signal);
    })();
  };
  for (const name of SHUTDOWN_SIGNALS) process.on(name, onSignal);
}
