import 'reflect-metadata';
import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { prepareDatabase, withDatabaseUrl } from './boot/database.js';
import { bootLogger } from './boot/logger.js';
import { AppLogger } from './common/logging/app-logger.js';
import { stopOnSignal } from './boot/shutdown.js';
import type { AppConfig } from './config/app-config.js';
import { loadConfigOrExit } from './config/boot.js';
import { WorkerModule } from './worker.module.js';

/**
 * `node dist/bundle/worker.js` (worker.ts, which loads this file, bundled by src/cli/bundle.ts;
 * `node dist/worker.js` unbundled): runs only the job workers (mail, housekeeping), no HTTP. Start as many as you
 * like next to API instances started with WORKERS=false (or not): they share the queue in
 * PostgreSQL and each job runs once. Needs DATABASE_URL: the embedded database
 * belongs to the API process, which runs the workers itself.
 */
async function bootstrap(): Promise<void> {
  const loaded = loadConfigOrExit();
  if (loaded.databaseUrl === undefined) {
    process.stderr.write(
      'worker.js needs DATABASE_URL: with the embedded database, `npm start` runs the workers in the API process\n',
    );
    process.exit(1);
  }
  // This process exists to run workers, whatever WORKERS says for the API instances.
  const bootConfig: AppConfig = { ...loaded, jobs: { ...loaded.jobs, workers: true } };
  const database = await prepareDatabase(bootConfig, {
    seed: false,
    logger: await bootLogger(bootConfig, 'Database'),
  });
  const app = await NestFactory.createApplicationContext(
    WorkerModule.forRoot(withDatabaseUrl(bootConfig, database)),
    { bufferLogs: true },
  );
  app.useLogger(app.get(AppLogger));
  // SIGTERM / Ctrl-C: workers stop fetching, in-flight jobs get JOBS_SHUTDOWN_TIMEOUT_MS to
  // finish (the rest are failed and retried by whichever worker runs next), the pool closes.
  stopOnSignal(
    () => app.close(),
    `letting running jobs finish (at most ${bootConfig.jobs.shutdownTimeoutMs} ms), then closing`,
  );
  await app.init();
  new NestLogger('Worker').log(`job workers running (queue schema ${bootConfig.jobs.schema})`);
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(
    `nest-saas worker failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
