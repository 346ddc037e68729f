import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { configureApp } from './app.setup.js';
import { loadConfigOrExit } from './config/boot.js';

async function bootstrap(): Promise<void> {
  const startedAt = performance.now();
  const config = loadConfigOrExit();
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    rawBody: true,
    bufferLogs: true,
  });
  configureApp(app);
  await app.listen(config.port);
  const logger = new Logger('Bootstrap');
  if (config.jwt.generated) {
    logger.warn(
      'JWT_SECRET is not set: using a random key for this run (every restart signs everyone out)',
    );
  }
  const url = `http://localhost:${config.port}`;
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
