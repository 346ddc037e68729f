import { RequestMethod, type INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import fastifyCors, { type FastifyCorsOptions } from '@fastify/cors';
import fastifyHelmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import helmet from 'helmet';
import type { Readable } from 'node:stream';
import { CommonErrors } from './common/errors/common.errors.js';
import { AppLogger } from './common/logging/app-logger.js';
import { ROOT_LOGGER } from './common/logging/logging.module.js';
import { noteErrorCode, requestLog } from './common/logging/request-log.js';
import { toErrorResponse } from './common/errors/all-exceptions.filter.js';
import { requestLocale } from './common/i18n/error-messages.js';
import { API_KEY_SECURITY } from './common/openapi/api-key-security.js';
import { ErrorResponseDto } from './common/errors/error-response.dto.js';
import { inflate, parseFormBody, parseJsonBody, refuseBody } from './common/http/body-parsers.js';
import { MAX_JSON_DEPTH } from './common/http/json-depth.js';
import { requestIdOf } from './common/http/request-id.js';
import { fastifyTrustProxy } from './common/http/trust-proxy.js';
import { createValidationPipe } from './common/http/validation.pipe.js';
import { finalizeOpenApiDocument } from './common/openapi/finalize-document.js';
import { serveSwaggerUi } from './common/openapi/swagger-ui.js';
import { AppConfig } from './config/app-config.js';
import { ADMIN_ROOT_PATH } from './common/http/admin-path.js';
import {
  isScimRequest,
  registerScimMediaType,
  SCIM_MEDIA_TYPE,
  SCIM_ROOT_PATH,
  toScimErrorBody,
} from './common/http/scim-path.js';
import { AdminPanelHost, adminPanelMounted } from './modules/admin/admin-panel.host.js';
import { AuthErrors } from './modules/auth/auth.errors.js';
import { DEV_MAIL_PATHS } from './modules/mail/dev-mail.controller.js';
import { METRICS_SECURITY } from './modules/metrics/metrics.controller.js';
import { MetricsService } from './modules/metrics/metrics.service.js';
import { UserErrors } from './modules/users/users.errors.js';

export const API_PREFIX = 'api/v1';
export const JSON_BODY_LIMIT = '100kb';
/** JSON_BODY_LIMIT in bytes, for Fastify's `bodyLimit` (body-parser's "100kb" was 100 × 1024). */
export const BODY_LIMIT_BYTES = 100 * 1024;

/**
 * The Fastify HTTP adapter, with what must be fixed when Fastify is created: proxy trust
 * (TRUST_PROXY, same forms as Express's `trust proxy`), the body limit, the request id (an
 * incoming `X-Request-Id` kept when sane, see request-id.ts), and routing that matches paths
 * case-insensitively and with or without a trailing slash, as Express did. Shared by server.ts
 * and the e2e tests.
 */
export function createHttpAdapter(config: Pick<AppConfig, 'trustProxy'>): FastifyAdapter {
  return new FastifyAdapter({
    trustProxy: fastifyTrustProxy(config.trustProxy),
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: requestIdOf,
    requestIdHeader: false,
    // Express had no limit on a route parameter's length (Fastify: 100, then a 414): a long
    // `:teamId` still reaches its pipe and gets the same 400 as any other invalid id.
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: 16 * 1024 },
    // The router answers a malformed URL (bad percent-encoding) before any hook or Nest
    // runs: rendered here in the API's error shape, with the request id, and logged and
    // counted by what configureApp installed (no hook runs for it).
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => {
      const { body } = toErrorResponse(error, requestLocale(request));
      const send = () => {
        noteErrorCode(request, body.code);
        void reply.header('X-Request-Id', request.id).code(body.statusCode);
        if (isScimRequest(request.raw)) {
          void reply
            .header('Content-Type', `${SCIM_MEDIA_TYPE}; charset=utf-8`)
            .send(toScimErrorBody(body));
        } else {
          void reply.send(body);
        }
      };
      const observe = (request.server as RouterAnswers)[ROUTER_ANSWERED];
      if (observe === undefined) send();
      else observe(request, reply, send);
    },
  });
}

/**
 * Where configureApp leaves, on the Fastify instance, what a request the router answers itself
 * (frameworkErrors) gets instead of the app's hooks: its log line and its metrics.
 */
const ROUTER_ANSWERED = Symbol('routerAnswered');

type RouterAnswers = {
  [ROUTER_ANSWERED]?: (request: FastifyRequest, reply: FastifyReply, send: () => void) => void;
};

/** The status a request's metrics get when its client went away first (nginx's convention). */
const CLIENT_CLOSED_REQUEST = 499;

/**
 * The options every NestFactory.create / createNestApplication call for the HTTP app uses.
 * No Nest body parsers: configureApp registers the API's own (which keep the raw JSON bytes).
 */
export const NEST_APP_OPTIONS = { bufferLogs: true, bodyParser: false } as const;

/**
 * Everything the HTTP app needs beyond the module graph; shared by server.ts, the e2e tests
 * and the OpenAPI generator so they all serve the same thing.
 */
export function configureApp(app: NestFastifyApplication): void {
  const config = app.get(AppConfig);
  app.useLogger(app.get(AppLogger));
  const adapter = app.getHttpAdapter() as FastifyAdapter;
  const fastify = adapter.getInstance();
  const metrics = app.get(MetricsService);
  const observe = metrics.enabled ? metrics.requestObserver() : undefined;
  const log = requestLog(app.get(ROOT_LOGGER));
  // What every request gets first (the adapter's first onRequest hook, unmatched routes
  // included), so its duration covers the whole pipeline: timing, its id (on the Node
  // response, so that the admin panel's responses carry it too), then the rest of the request
  // in its logging context (every line carries its `req`).
  const enter = (request: FastifyRequest, reply: FastifyReply, then: () => void): void => {
    observe?.start(request);
    reply.raw.setHeader('X-Request-Id', request.id);
    log.enter(request, then);
  };
  const onResponse = observe
    ? (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
        observe.finish(request, reply.raw.statusCode);
        log.complete(request, reply, done);
      }
    : log.complete;
  adapter.setOnRequestHook((request, reply, done) => enter(request, reply, done));
  adapter.setOnResponseHook(onResponse);
  // Then, in this order (Fastify runs a plugin's hooks where it was registered): the security
  // headers, on the Node response; the admin panel (its own Fastify instance answers /admin
  // before this one reads a body, with those headers); CORS, for the API only.
  void fastify.register(fastifyHelmet, SECURITY_HEADERS);
  // Looked up only where AppModule mounted it: outside tests, Nest's `app.get` ends the
  // process on an unknown provider.
  const admin = adminPanelMounted(config) ? app.get(AdminPanelHost, { strict: false }) : undefined;
  if (admin) {
    fastify.addHook('onRequest', (request, reply, done) =>
      admin.route(request.raw, reply.raw, (error?: unknown) =>
        error === undefined ? done() : done(asError(error)),
      ),
    );
  }
  registerCors(fastify, config.corsOrigins);
  // The router's own answers (a malformed URL) run none of Fastify's hooks: the same first
  // step, security headers and end, around the answer. 'close' comes after the response was
  // sent, and also when the client left first, so the request never stays counted as in flight.
  const routerAnswerHeaders = helmet(SECURITY_HEADERS);
  (fastify as RouterAnswers)[ROUTER_ANSWERED] = (request, reply, send) => {
    reply.raw.once('close', () => onResponse(request, reply, () => undefined));
    enter(request, reply, () => routerAnswerHeaders(request.raw, reply.raw, send));
  };
  fastify.addHook('onRequestAbort', (request, done) => {
    // The client went away before its response was sent: nginx's 499 (client closed request).
    observe?.finish(request, CLIENT_CLOSED_REQUEST);
    log.aborted(request, done);
  });
  registerBodyParsers(adapter);
  applyGlobalPrefix(app);
  app.useGlobalPipes(createValidationPipe());
  // No enableShutdownHooks(): server.ts handles SIGINT/SIGTERM, so that the embedded PostgreSQL
  // it started stops after app.close().
  setupSwagger(app);
}

/**
 * helmet's headers (@fastify/helmet) on every response. Swagger UI needs inline
 * scripts/styles; the admin panel replaces script-src with a per-response nonce
 * (admin-page.ts); the API only serves JSON. No upgrade-insecure-requests: every page here
 * loads its assets from its own origin, and over plain HTTP on a non-loopback host (a LAN, a
 * VM) it made the browser fetch them over HTTPS, which broke both UIs. HSTS covers HTTPS
 * deployments.
 */
const SECURITY_HEADERS = {
  contentSecurityPolicy: {
    directives: {
      'upgrade-insecure-requests': null,
      'script-src': ["'self'", "'unsafe-inline'"],
      'style-src': ["'self'", "'unsafe-inline'", 'https:'],
      'img-src': ["'self'", 'data:', 'https:'],
    },
  },
} satisfies FastifyHelmetOptions;

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error('admin panel error', { cause: error });
}

/**
 * The API's own body parsers (Fastify's are removed): JSON only (parseJsonBody: UTF-8 only, the
 * depth scan, raw bytes kept for the Stripe signature). A non-empty body of any other type,
 * forms included, is a 415 (refuseBody) rather than a body the route never sees. AdminJS
 * parses its own form bodies (behind its same-origin check) in the panel's own
 * Fastify instance, which answers before Fastify reads any body.
 */
function registerBodyParsers(adapter: FastifyAdapter): void {
  const fastify = adapter.getInstance();
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, parseJsonBody);
  // RFC 7644 §3.1: SCIM clients send application/scim+json; read as JSON under /scim/v2 only
  // (the API itself documents JSON bodies only).
  fastify.addContentTypeParser(SCIM_MEDIA_TYPE, { parseAs: 'buffer' }, (request, body, done) =>
    isScimRequest(request.raw)
      ? parseJsonBody(request, body, done)
      : refuseBody(request, body, done),
  );
  registerScimMediaType(fastify);
  // Forms only where a route opts in (the SAML ACS); refused elsewhere.
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer' },
    parseFormBody,
  );
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, refuseBody);
  // Compressed bodies are inflated before the parsers (and the body limit) see them.
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    let inflated: Readable;
    try {
      inflated = inflate(request.raw, payload);
    } catch (error) {
      done(error as Error);
      return;
    }
    done(null, inflated);
  });
}

/** Response headers a browser frontend may read: the rate-limit budget and wait, the request id. */
const EXPOSED_HEADERS = 'RateLimit,RateLimit-Policy,Retry-After,X-Request-Id';

/**
 * CORS for browser frontends on `origins` (CORS_ORIGINS), API routes only (@fastify/cors):
 * bearer tokens, no cookies, so no credentials. Any other origin gets no CORS headers at all
 * (its preflight a 404), so the browser keeps its same-origin rule; every API response varies
 * on Origin, so a cache never serves one origin's answer to another. Routes outside the API
 * (health, metrics, docs) opt out in their route config, so they do not even vary; a request
 * outside the API that no route matches (a preflight, a 404) gets CORS disabled by the
 * delegator. Its hook runs after the admin panel's, which answers /admin without CORS.
 */
function registerCors(fastify: FastifyInstance, origins: readonly string[]): void {
  const allowed = new Set(origins);
  const api = `/${API_PREFIX}/`;
  const apiCors: FastifyCorsOptions = {
    origin: (origin, callback) =>
      callback(null, origin !== undefined && allowed.has(origin) ? origin : false),
    methods: 'GET,POST,PUT,PATCH,DELETE',
    allowedHeaders: 'Authorization,Content-Type,X-Request-Id',
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
    strictPreflight: false,
  };
  const notApi: FastifyCorsOptions = { origin: false };
  fastify.addHook('onRoute', (route) => {
    // '*' is @fastify/cors's own OPTIONS route, which answers every preflight.
    if (route.url !== '*' && !route.url.startsWith(api)) {
      route.config = { ...route.config, cors: false };
    }
  });
  void fastify.register(fastifyCors, {
    hideOptionsRoute: true,
    delegator: (request, callback) =>
      callback(null, request.url.startsWith(api) ? apiCors : notApi),
  });
}

/**
 * `/api/v1` for the API; health probes stay at the root where orchestrators expect them, and
 * so does the admin panel.
 */
export function applyGlobalPrefix(app: INestApplication): void {
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'health', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
      { path: 'metrics', method: RequestMethod.GET },
      ...DEV_MAIL_PATHS.map((path) => ({ path, method: RequestMethod.GET })),
      // The SCIM service (RFC 7644) at /scim/v2: identity providers are given that base URL.
      { path: `${SCIM_ROOT_PATH.slice(1)}/{*splat}`, method: RequestMethod.ALL },
      { path: ADMIN_ROOT_PATH.slice(1), method: RequestMethod.ALL },
      { path: `${ADMIN_ROOT_PATH.slice(1)}/{*splat}`, method: RequestMethod.ALL },
    ],
  });
}

/** Every tag the controllers use (@ApiTags), described; building the document fails on another. */
const API_TAGS = [
  {
    name: 'auth',
    description:
      'Sign-up and sign-in (password, two-factor step, OpenID Connect), token refresh and sign-out, email verification, password reset.',
  },
  {
    name: 'users',
    description: "The signed-in user's own account: profile, password, deletion.",
  },
  { name: 'sessions', description: "The signed-in user's sessions: list and revoke them." },
  {
    name: 'mfa',
    description: "The signed-in user's two-factor authentication (TOTP) and recovery codes.",
  },
  { name: 'teams', description: 'Teams, their members and roles, and their activity log.' },
  {
    name: 'invitations',
    description:
      "Invitations to a team: sent and revoked by owners, accepted or declined by the invitee's address.",
  },
  { name: 'activity', description: "The signed-in user's activity across their teams." },
  {
    name: 'api-keys',
    description: "Team API keys (`nsk_…`) for a team's own servers, created and revoked by owners.",
  },
  {
    name: 'webhooks',
    description: 'Team webhook endpoints, their signing secrets and their deliveries.',
  },
  {
    name: 'sso',
    description:
      "A team's SAML 2.0 connection to its identity provider (Okta, Entra ID, ...), managed by owners; the sign-in itself is under `auth`.",
  },
  {
    name: 'domains',
    description:
      "A team's email domains, proved by a DNS TXT record: what SAML sign-in and SCIM provisioning trust.",
  },
  {
    name: 'scim',
    description:
      "Directory sync: a team's SCIM tokens and settings. The SCIM 2.0 service itself lives at `/scim/v2`, outside this API (see docs/scim.md).",
  },
  {
    name: 'billing',
    description: 'Plans, Stripe Checkout and the customer portal, and the Stripe webhook.',
  },
  { name: 'health', description: 'Liveness and readiness probes, and the Prometheus metrics.' },
] as const;

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const options = new DocumentBuilder()
    .setTitle('nest-saas API')
    .setDescription(
      [
        'Team-based SaaS backend. All errors use one shape (`ErrorResponse`).',
        'Lists are paginated with `limit` (1..100, default 20) and an opaque `cursor`; responses are `{ items, nextCursor }`.',
        'Authenticate with `Authorization: Bearer <accessToken>` from sign-up / sign-in / refresh.',
        "Servers of a team's own may instead send a team API key, `Authorization: Bearer nsk_…` (security scheme `apiKey`), created by an owner under `/teams/{teamId}/api-keys`. A key is accepted only on the operations that list the `apiKey` scheme, only for its own team (another team: 404) and only with the scope the operation names (else 403 `api_key.scope_missing`); anywhere else, or expired or revoked, it gets 401. Keys are rate limited per key (429 with `Retry-After`).",
        `Request bodies: JSON only (\`Content-Type: application/json\`; any other type, forms included, is a 415 \`request.unsupported_media_type\`, except the SAML ACS, which reads the IdP's form post), in UTF-8 (else 415 \`request.unsupported_charset\`), at most ${JSON_BODY_LIMIT} (else 413 \`request.too_large\`), nested at most ${MAX_JSON_DEPTH} levels (else 400 \`request.too_deep\`); unknown fields, \`__proto__\`, \`constructor\` and \`prototype\` included, are a 400 \`request.invalid\`.`,
        'Any operation may answer 500 `internal` (an unexpected failure, logged with the request id; the body never says more).',
        'Operations throttled per client (sign-up, password reset, the token routes...) send their budget on every answer, as in draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy: "sign-up.ip";q=30;w=900` (quota, window in seconds) and `RateLimit: "sign-up.ip";r=12;t=480` (requests left, seconds to reset); past it, 429 `request.rate_limited` with `Retry-After`.',
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
    // addBearerAuth would add `bearerFormat: JWT`: METRICS_TOKEN is an opaque shared secret.
    .addSecurity(METRICS_SECURITY, {
      type: 'http',
      scheme: 'bearer',
      description:
        'METRICS_TOKEN, for GET /metrics only: an opaque secret set in the configuration and sent as `Authorization: Bearer <METRICS_TOKEN>` (no JWT).',
    })
    .build();
  const document = SwaggerModule.createDocument(app, options, {
    extraModels: [ErrorResponseDto],
    operationIdFactory: (controllerKey, methodKey) =>
      `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
  // The errors the global pipeline (guards, body parser, pipes, filter) can answer on any
  // operation of a kind; each route documents its own with @ApiErrors(...).
  return finalizeOpenApiDocument(document, {
    every: [CommonErrors.internal],
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
    tags: API_TAGS,
  });
}

/**
 * `/docs-json` and `/docs-yaml` from SwaggerModule; the UI at `/docs` from serveSwaggerUi.
 * The document is a factory: @nestjs/swagger builds it on the first /docs request and keeps
 * it, so start-up does not wait for the metadata scan (~30-100 ms). CI builds the same
 * document (npm run openapi), so a broken one cannot reach a deployment.
 */
function setupSwagger(app: NestFastifyApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    yamlDocumentUrl: 'docs-yaml',
    ui: false,
  });
  serveSwaggerUi(app.getHttpAdapter().getInstance(), '/docs-json');
}
