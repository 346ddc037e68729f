import { RequestMethod, type INestApplication } from '@nestjs/common';
import type {
  ExpressAdapter,
  NestExpressApplication,
  NestExpressBodyParserOptionsMap,
} from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import type { IncomingMessage } from 'node:http';
import { Logger } from 'nestjs-pino';
import { CommonErrors } from './common/errors/common.errors.js';
import { API_KEY_SECURITY } from './common/openapi/api-key-security.js';
import { ErrorResponseDto } from './common/errors/error-response.dto.js';
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from './common/http/json-depth.js';
import { createValidationPipe } from './common/http/validation.pipe.js';
import { finalizeOpenApiDocument } from './common/openapi/finalize-document.js';
import { AppConfig } from './config/app-config.js';
import { ADMIN_ROOT_PATH, isAdminRequest } from './modules/admin/admin-path.js';
import { AuthErrors } from './modules/auth/auth.errors.js';
import { METRICS_SECURITY } from './modules/metrics/metrics.controller.js';
import { MetricsService } from './modules/metrics/metrics.service.js';
import { UserErrors } from './modules/users/users.errors.js';

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
  // First, so a request's duration covers the whole pipeline (helmet, parsers, guards, admin).
  const metrics = app.get(MetricsService);
  if (metrics.enabled) app.use(metrics.middleware());
  app.use(
    helmet({
      // Swagger UI and the admin panel need inline scripts/styles; the API only serves JSON.
      // No upgrade-insecure-requests: every page here loads its assets from its own origin,
      // and over plain HTTP on a non-loopback host (a LAN, a VM) it made the browser fetch
      // them over HTTPS, which broke both UIs. HSTS covers HTTPS deployments.
      contentSecurityPolicy: {
        directives: {
          'upgrade-insecure-requests': null,
          'script-src': ["'self'", "'unsafe-inline'"],
          'style-src': ["'self'", "'unsafe-inline'", 'https:'],
          'img-src': ["'self'", 'data:', 'https:'],
        },
      },
    }),
  );
  enableCors(app, config.corsOrigins);
  // Registered on the adapter with rawBody=false so that our `verify` is not replaced by
  // Nest's (which only keeps the raw bytes; hence its types reserve `verify`): ours keeps them
  // too, for the Stripe signature.
  const jsonOptions: NestExpressBodyParserOptionsMap['json'] = {
    limit: JSON_BODY_LIMIT,
    verify: verifyJsonBody,
    // AdminJS parses its own form bodies (formidable, behind its same-origin check): the API's
    // parsers leave /admin alone, so the panel can sit behind helmet and the request logger.
    type: apiBody('application/json'),
  };
  (app.getHttpAdapter() as ExpressAdapter).useBodyParser('json', false, jsonOptions);
  // extended: false parses with qs at depth 0 (strictly): `a[b][c]=1` stays the flat key
  // "a[b][c]", so a form body cannot nest at all (repeated keys give one array of strings).
  app.useBodyParser('urlencoded', {
    limit: JSON_BODY_LIMIT,
    extended: false,
    type: apiBody('application/x-www-form-urlencoded'),
  });
  applyGlobalPrefix(app);
  app.useGlobalPipes(createValidationPipe());
  // No enableShutdownHooks(): main.ts handles SIGINT/SIGTERM, so that the embedded PostgreSQL
  // it started stops after app.close().
  setupSwagger(app);
}

/**
 * Runs on the raw bytes of every JSON body before JSON.parse: JSON is UTF-8 (RFC 8259 §8.1;
 * another charset is a 415, since the depth scan reads UTF-8 bytes), nesting deeper than
 * MAX_JSON_DEPTH is a 400 `request.too_deep` in a linear pass instead of a parse plus a
 * recursive validation, and the bytes are kept as `req.rawBody` (Stripe webhook signature).
 * Errors thrown here reach the global filter as they are (body-parser keeps their status).
 */
function verifyJsonBody(
  req: IncomingMessage & { rawBody?: Buffer },
  _res: unknown,
  body: Buffer,
  encoding: string,
): void {
  if (encoding !== 'utf-8') throw CommonErrors.unsupportedCharset();
  if (jsonNestsDeeperThan(body, MAX_JSON_DEPTH)) {
    throw CommonErrors.tooDeep(
      `The request body nests arrays/objects deeper than ${MAX_JSON_DEPTH} levels`,
    );
  }
  req.rawBody = body;
}

/** body-parser's `type` test: the API's content type, anywhere but under /admin. */
function apiBody(type: string): (req: IncomingMessage) => boolean {
  return (req) => !isAdminRequest(req) && Boolean((req as Request).is(type));
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

/**
 * `/api/v1` for the API; health probes stay at the root where orchestrators expect them, and
 * so does the admin panel. The request logger's middleware covers every path listed here.
 */
export function applyGlobalPrefix(app: INestApplication): void {
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'health', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
      { path: 'metrics', method: RequestMethod.GET },
      { path: ADMIN_ROOT_PATH.slice(1), method: RequestMethod.ALL },
      { path: `${ADMIN_ROOT_PATH.slice(1)}/{*splat}`, method: RequestMethod.ALL },
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
        "Servers of a team's own may instead send a team API key, `Authorization: Bearer nsk_…` (security scheme `apiKey`), created by an owner under `/teams/{teamId}/api-keys`. A key is accepted only on the operations that list the `apiKey` scheme, only for its own team (another team: 404) and only with the scope the operation names (else 403 `api_key.scope_missing`); anywhere else, or expired or revoked, it gets 401. Keys are rate limited per key (429 with `Retry-After`).",
        `Request bodies: JSON in UTF-8 (else 415 \`request.unsupported_charset\`), at most ${JSON_BODY_LIMIT} (else 413 \`request.too_large\`), nested at most ${MAX_JSON_DEPTH} levels (else 400 \`request.too_deep\`); unknown fields, \`__proto__\`, \`constructor\` and \`prototype\` included, are a 400 \`request.invalid\`.`,
      ].join('\n\n'),
    )
    .setVersion('1.0.0')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'nsk_…',
        description:
          'A team API key (`nsk_…`), on the operations that list this scheme; each names the scope it needs.',
      },
      API_KEY_SECURITY,
    )
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, for GET /metrics only' },
      METRICS_SECURITY,
    )
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
    // Invitations by address, and every route but three under EMAIL_VERIFICATION=required.
    verifiedEmail: [UserErrors.emailUnverified],
    jsonBody: [
      CommonErrors.malformedJson,
      CommonErrors.tooDeep,
      CommonErrors.payloadTooLarge,
      CommonErrors.unsupportedMediaType,
      CommonErrors.unsupportedCharset,
    ],
    // The webhook's raw Stripe event is no DTO: the validation pipe never sees it.
    dtoBody: [CommonErrors.validation],
    parameters: [CommonErrors.validation],
    cursor: [CommonErrors.invalidCursor],
    database: [CommonErrors.serviceUnavailable],
    // Served from Stripe (and an in-process cache) / from the configuration, without a query.
    withoutDatabase: new Set(['Billing_plans', 'Oidc_providers']),
  });
}

function setupSwagger(app: INestApplication): void {
  // A factory: @nestjs/swagger builds the document on the first /docs request and keeps it,
  // so start-up does not wait for the metadata scan (~30-100 ms). CI builds the same document
  // (npm run openapi), so a broken one cannot reach a deployment.
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    yamlDocumentUrl: 'docs-yaml',
    swaggerOptions: { persistAuthorization: true },
  });
}
