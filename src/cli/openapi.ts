import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { writeFileSync } from 'node:fs';
import { AppModule } from '../app.module.js';
import { applyGlobalPrefix, buildOpenApiDocument, createHttpAdapter } from '../app.setup.js';

/**
 * Writes the OpenAPI document to openapi.json (committed; CI fails when it is stale).
 * Preview mode builds the module graph without instantiating providers, so no database
 * is needed and no connection is opened.
 */
async function main(): Promise<void> {
  const out = process.argv[2] ?? 'openapi.json';
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(),
    createHttpAdapter({ trustProxy: false }),
    {
      preview: true,
      logger: false,
      abortOnError: false,
    },
  );
  applyGlobalPrefix(app);
  const document = buildOpenApiDocument(app);
  writeFileSync(out, `${JSON.stringify(document, null, 2)}\n`);
  await app.close();
  process.stdout.write(`wrote ${out} (${Object.keys(document.paths).length} paths)\n`);
}

await main();
