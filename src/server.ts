import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { ConnectionDrainer } from './common/http/connection-drainer.js';
import { configureApp, createHttpAdapter, NEST_APP_OPTIONS } from './app.setup.js';
import { prepareDatabase, withDatabaseUrl } from './boot/database.js';
import { bootLogger } from './boot/logger.js';
import { stopOnSignal } from './boot/shutdown.js';
import { loadConfigOrExit } from './config/boot.js';

async function bootstrap(): Promise<void> {
  const startedAt = performance.now();
  const bootConfig = loadConfigOrExit();
  // Started (embedded, unless DATABASE_URL is set), migrated and seeded before the app exists.
  const database = await prepareDatabase(bootConfig, {
    logger: await bootLogger(bootConfig, 'Database'),
  });
  let app: NestFastifyApplication;
  try {
    app = await NestFactory.create<NestFastifyApplication>(
      AppModule.forRoot(withDatabaseUrl(bootConfig, database)),
      createHttpAdapter(bootConfig),
      NEST_APP_OPTIONS,
    );
    configureApp(app);
    // Ctrl-C / SIGTERM: not ready at once, serving on for SHUTDOWN_DRAIN_MS (a balancer stops
    // sending), then the HTTP connections drain (in-flight requests finish, keep-alive
    // connections close cleanly), the app closes (jobs, the pool), and the embedded PostgreSQL
    // stops. The drain comes before app.close(): its hooks take down what requests still use.
    stopOnSignal(
      async () => {
        const drainer = app.get(ConnectionDrainer);
        drainer.beginDrain();
        await drainer.drain(bootConfig.shutdownDrainMs);
        await app.close();
        await database.stop();
      },
      bootConfig.shutdownDrainMs > 0
        ? `not ready; serving for ${bootConfig.shutdownDrainMs} ms (SHUTDOWN_DRAIN_MS), then draining connections and closing`
        : 'draining connections, then closing',
    );
    // Every interface, as Express did (Fastify alone would listen on localhost only).
    await app.listen(bootConfig.port, '0.0.0.0');
  } catch (error) {
    await database.stop();
    throw error;
  }
  const logger = new Logger('Bootstrap');
  if (bootConfig.jwt.generated) {
    logger.warn(
      'JWT_SECRET is not set: using a random key for this run (every restart signs everyone out)',
    );
  }
  const url = `http://localhost:${bootConfig.port}`;
  logger.log(
    `ready in ${Math.round(performance.now() - startedAt)} ms: API ${url}/api/v1, docs ${url}/docs, admin ${url}/admin`,
  );
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(
    `nest-saas failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
