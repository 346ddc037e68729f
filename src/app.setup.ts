import { RequestMethod, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { CommonErrors } from './common/errors/common.errors.js';
import { ErrorResponseDto } from './common/errors/error-response.dto.js';
import { createValidationPipe } from './common/http/validation.pipe.js';
import { finalizeOpenApiDocument } from './common/openapi/finalize-document.js';
import { AppConfig } from './config/app-config.js';
import { AuthErrors } from './modules/auth/auth.errors.js';

export const API_PREFIX = 'api/v1';
export const JSON_BODY_LIMIT = '100kb';

/**
 * Everything the HTTP app needs beyond the module graph; shared by main.ts, the e2e tests
 * and the OpenAPI generator so they all serve the same thing.
 */
export function configureApp(app: NestExpressApplication): void {
  const config = app.get(AppConfig);
  app.useLogger(app.get(Logger));
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  app.use(
    helmet({
      // Swagger UI needs inline scripts/styles; the API itself only serves JSON.
      contentSecurityPolicy: {
        directives: {
          'script-src': ["'self'", "'unsafe-inline'"],
          'style-src': ["'self'", "'unsafe-inline'", 'https:'],
          'img-src': ["'self'", 'data:', 'https:'],
        },
      },
    }),
  );
  enableCors(app, config.corsOrigins);
  app.useBodyParser('json', { limit: JSON_BODY_LIMIT });
  app.useBodyParser('urlencoded', { limit: JSON_BODY_LIMIT, extended: false });
  applyGlobalPrefix(app);
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();
  setupSwagger(app);
}

/**
 * CORS for browser frontends on `origins` (CORS_ORIGINS), API routes only: bearer tokens, no
 * cookies, so no credentials. Any other origin, and every non-API path (the admin panel, docs),
 * gets no CORS headers at all, so the browser keeps its same-origin rule. Every API response
 * varies on Origin, so a cache never serves one origin's answer to another.
 */
function enableCors(app: NestExpressApplication, origins: readonly string[]): void {
  const allowed = new Set(origins);
  const api = `/${API_PREFIX}/`;
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.path.startsWith(api)) res.vary('Origin');
    next();
  });
  app.enableCors((req: Request, callback) => {
    const origin = req.header('origin');
    if (origin === undefined || !allowed.has(origin) || !req.path.startsWith(api)) {
      callback(null, { origin: false });
      return;
    }
    callback(null, {
      origin,
      credentials: false,
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
      exposedHeaders: ['Retry-After', 'X-Request-Id'],
      maxAge: 600,
      optionsSuccessStatus: 204,
    });
  });
}

/** `/api/v1` for the API; health probes stay at the root where orchestrators expect them. */
export function applyGlobalPrefix(app: INestApplication): void {
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'health', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
    ],
  });
}

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const options = new DocumentBuilder()
    .setTitle('nest-saas API')
    .setDescription(
      [
        'Team-based SaaS backend. All errors use one shape (`ErrorResponse`).',
        'Lists are paginated with `limit` (1..100, default 20) and an opaque `cursor`; responses are `{ items, nextCursor }`.',
        'Authenticate with `Authorization: Bearer <accessToken>` from sign-up / sign-in / refresh.',
      ].join('\n\n'),
    )
    .setVersion('1.0.0')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  const document = SwaggerModule.createDocument(app, options, {
    extraModels: [ErrorResponseDto],
    operationIdFactory: (controllerKey, methodKey) =>
      `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
  // The errors the global pipeline (guards, body parser, pipes, filter) can answer on any
  // operation of a kind; each route documents its own with @ApiErrors(...).
  return finalizeOpenApiDocument(document, {
    authenticated: [AuthErrors.unauthorized],
    jsonBody: [
      CommonErrors.malformedJson,
      CommonErrors.payloadTooLarge,
      CommonErrors.unsupportedMediaType,
    ],
    // The webhook's raw Stripe event is no DTO: the validation pipe never sees it.
    dtoBody: [CommonErrors.validation],
    parameters: [CommonErrors.validation],
    cursor: [CommonErrors.invalidCursor],
    database: [CommonErrors.serviceUnavailable],
    // Served from Stripe (and an in-process cache) without a query.
    withoutDatabase: new Set(['Billing_plans']),
  });
}

function setupSwagger(app: INestApplication): void {
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    yamlDocumentUrl: 'docs-yaml',
    swaggerOptions: { persistAuthorization: true },
  });
}
