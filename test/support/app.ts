import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import supertest from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { AppModule } from '../../src/app.module.js';
import {
  buildOpenApiDocument,
  configureApp,
  createHttpAdapter,
  NEST_APP_OPTIONS,
} from '../../src/app.setup.js';
import { type AppConfig, loadConfig } from '../../src/config/app-config.js';
import { createPool } from '../../src/database/database.connection.js';
import { DRIZZLE, type Database } from '../../src/database/database.tokens.js';
import { installJobQueue } from '../../src/modules/jobs/job-queue.js';
import { OpenApiResponseValidator } from './openapi-validator.js';

export interface TestApp {
  app: NestFastifyApplication;
  /**
   * supertest bound to the app's HTTP server. Every response to an operation of the OpenAPI
   * document is checked against it (status documented, JSON body matching its schema); a
   * drift fails the request's assertion with the method, path, status and schema errors.
   */
  http: TestAgent;
  /**
   * supertest without the OpenAPI check, only for requests that provoke an undocumented status
   * on purpose (a failure injected into the database answers the generic 500).
   */
  unchecked: TestAgent;
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
  /** Check responses against the OpenAPI document (default true). */
  validateResponses?: boolean;
}

const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete', 'del', 'head', 'options'] as const;

/** Adds the OpenAPI response check to every request made through `agent`. */
export function validatingAgent(agent: TestAgent, validator: OpenApiResponseValidator): TestAgent {
  const methods = agent as unknown as Record<string, (url: string) => supertest.Test>;
  for (const name of HTTP_METHODS) {
    const original = methods[name];
    if (typeof original !== 'function') continue;
    methods[name] = (url: string) => {
      const test = original.call(agent, url);
      return test.expect((res) => {
        const problem = validator.check(test.method, test.url, res);
        if (problem !== undefined) throw new Error(`OpenAPI drift: ${problem}`);
      });
    };
  }
  return agent;
}

/**
 * A job queue of its own (JOBS_SCHEMA), installed like the boot edge does: the suites run in
 * parallel on one database, each app with its own SMTP stand-in, so one app's worker must not
 * deliver another app's mail.
 */
export async function freshJobsSchema(): Promise<string> {
  const schema = `jobs_${randomBytes(6).toString('hex')}`;
  // Its migration lock is a session advisory lock: straight to the server.
  const url = process.env.DATABASE_DIRECT_URL ?? process.env.DATABASE_URL;
  if (url === undefined) throw new Error('DATABASE_URL is set by the global setup');
  const pool = createPool(url, { max: 1 });
  try {
    await installJobQueue(pool, schema);
  } finally {
    await pool.end();
  }
  return schema;
}

/**
 * Boots the real AppModule against the run's test database, configured exactly like server.ts.
 * Config comes from the environment that global-setup prepared, plus `options.env`; the app
 * gets a job queue of its own unless `options.env.JOBS_SCHEMA` names one.
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const jobsSchema = options.env?.JOBS_SCHEMA ?? (await freshJobsSchema());
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...options.env,
    JOBS_SCHEMA: jobsSchema,
  };
  // Another DATABASE_URL without a direct URL of its own: the run's direct URL (another
  // database) must not stand in for it.
  if (options.env?.DATABASE_URL !== undefined && !('DATABASE_DIRECT_URL' in options.env)) {
    delete env.DATABASE_DIRECT_URL;
  }
  const config = loadConfig(env);
  let builder = Test.createTestingModule({
    imports: [AppModule.forRoot(config), ...(options.imports ?? [])],
  });
  if (options.override) builder = options.override(builder);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    createHttpAdapter(config),
    NEST_APP_OPTIONS,
  );
  configureApp(app);
  await app.init();
  // Fastify loads its plugins (CORS, the docs' static files) and seals its routes here.
  await app.getHttpAdapter().getInstance().ready();
  const http = supertest(app.getHttpServer());
  return {
    app,
    unchecked: supertest(app.getHttpServer()),
    http:
      options.validateResponses === false
        ? http
        : validatingAgent(http, new OpenApiResponseValidator(buildOpenApiDocument(app))),
    db: app.get<Database>(DRIZZLE),
    config,
    close: () => app.close(),
  };
}

/** A unique, valid email for one test. */
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}@example.test`;
}

/**
 * supertest parser that keeps a non-JSON body (a CSV download) as one string:
 * `.buffer(true).parse(textBody)`.
 */
export const textBody: Extract<
  Parameters<supertest.Test['parse']>[0],
  (res: never, callback: never) => void
> = (response, done) => {
  let text = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => (text += chunk));
  response.on('end', () => done(null, text));
};
