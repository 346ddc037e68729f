import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import supertest from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { AppModule } from '../../src/app.module.js';
import { configureApp } from '../../src/app.setup.js';
import { AppConfig, loadConfig } from '../../src/config/app-config.js';
import { DRIZZLE, type Database } from '../../src/database/database.tokens.js';

export interface TestApp {
  app: NestExpressApplication;
  /** supertest bound to the app's HTTP server. */
  http: TestAgent;
  db: Database;
  config: AppConfig;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Extra environment for this app's config, e.g. `{ STRIPE_SECRET_KEY: 'sk_test_x' }`. */
  env?: Record<string, string | undefined>;
  /** Extra modules to mount beside AppModule (e.g. a probe controller). */
  imports?: NonNullable<Parameters<typeof Test.createTestingModule>[0]['imports']>;
  /** Further overrides on the testing module (a fake clock, a capturing mailer, ...). */
  override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

/**
 * Boots the real AppModule against the run's test database, configured exactly like main.ts.
 * Config comes from the environment that global-setup prepared, plus `options.env`.
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const config = loadConfig({ ...process.env, ...options.env });
  let builder = Test.createTestingModule({ imports: [AppModule, ...(options.imports ?? [])] })
    .overrideProvider(AppConfig)
    .useValue(config);
  if (options.override) builder = options.override(builder);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({
    rawBody: true,
    bufferLogs: true,
  });
  configureApp(app);
  await app.init();
  return {
    app,
    http: supertest(app.getHttpServer()),
    db: app.get<Database>(DRIZZLE),
    config,
    close: () => app.close(),
  };
}

/** A unique, valid email for one test. */
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}@example.test`;
}
