import type {
  HeadersObject,
  OpenAPIObject,
  OperationObject,
  ParameterObject,
  SchemaObject,
  TagObject,
} from '@nestjs/swagger';
import { ALLOW_UNVERIFIED_EMAIL_EXTENSION } from '../decorators/allow-unverified-email.decorator.js';
import type { ErrorDefinition } from '../errors/app-error.js';
import { codesOf, errorResponse, knowErrors } from './api-errors.decorator.js';
import { API_KEY_SCOPE_EXTENSION } from './api-key-security.js';
import { VERIFIED_EMAIL_EXTENSION, VERIFIED_EMAIL_RULE } from './api-verified-email.decorator.js';
import { objectRules } from './api-object-rules.decorator.js';
import { RATE_LIMIT_EXTENSION } from './api-rate-limit.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'] as const;

export interface FinalizeOptions {
  /** Errors every operation with bearer security can answer (401 without a valid token, ...). */
  authenticated: readonly ErrorDefinition[];
  /**
   * Errors every operation with bearer security can answer unless it is marked
   * `x-allow-unverified-email` (@AllowUnverifiedEmail): the 403 of EMAIL_VERIFICATION=required.
   */
  verifiedEmail: readonly ErrorDefinition[];
  /** Errors any operation can answer (500 `internal`: the filter's answer to the unexpected). */
  every: readonly ErrorDefinition[];
  /**
   * Errors every operation a body can be sent to (POST, PUT, PATCH, DELETE) can answer, with
   * a documented body or not: the body parsers read any body sent (syntax, size, type, charset).
   */
  jsonBody: readonly ErrorDefinition[];
  /** Errors every operation whose body is a DTO (a schema reference) can answer (validation). */
  dtoBody: readonly ErrorDefinition[];
  /** Errors every operation with path or query parameters can answer (validation). */
  parameters: readonly ErrorDefinition[];
  /** Errors every operation with a `cursor` query parameter can answer. */
  cursor: readonly ErrorDefinition[];
  /** Errors every API operation that reads the database can answer (503 when it is down). */
  database: readonly ErrorDefinition[];
  /** operationIds of API operations that never touch the database. */
  withoutDatabase: ReadonlySet<string>;
  /** The document's tags, described; every tag an operation uses must be one of them. */
  tags: readonly TagObject[];
}

/** Methods whose requests Fastify reads a body of (GET and HEAD bodies are never parsed). */
const BODY_METHODS: ReadonlySet<string> = new Set(['post', 'put', 'patch', 'delete']);

/** The headers of a @RateLimit operation's success and 429 (draft-ietf-httpapi-ratelimit-headers-09). */
function rateLimitHeaders(policy: string): HeadersObject {
  return {
    'RateLimit-Policy': {
      description: `The quotas this request counts against, e.g. \`"${policy}.ip";q=30;w=900\` (30 requests per 900 s per client IP). A Structured Fields list: each item names a counter of the \`${policy}\` limit (\`.ip\`, \`.email\` for the address in the body, \`.user\` for the signed-in user), \`q\` its quota and \`w\` its window in seconds.`,
      required: true,
      schema: { type: 'string', example: `"${policy}.ip";q=30;w=900` },
    },
    RateLimit: {
      description: `What is left: \`"${policy}.ip";r=12;t=480\` (12 requests left, the window resets in 480 s). Lists the client's own counters (\`.ip\`, \`.user\`); the address counter (\`.email\`, counted for whoever names the address) only once it is used up, on the 429.`,
      required: true,
      schema: { type: 'string', example: `"${policy}.ip";r=12;t=480` },
    },
  };
}

/** Adds the RateLimit headers to the operation's successes (2xx, 3xx) and its 429. */
function addRateLimitHeaders(operation: OperationObject, policy: string): void {
  for (const [status, response] of Object.entries(operation.responses)) {
    if (!/^[23]\d\d$/.test(status) && status !== '429') continue;
    if (response === undefined || '$ref' in response) continue;
    response.headers = { ...response.headers, ...rateLimitHeaders(policy) };
  }
}

/**
 * Gives every integer schema without a format `int32`: ids are PostgreSQL `integer`/`serial`
 * and counts, seconds and statuses fit too. A wider field says `format: 'int64'` where it is
 * declared (a Stripe amount).
 */
function formatIntegers(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) formatIntegers(item);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const schema = node as SchemaObject;
  if (schema.type === 'integer' && schema.format === undefined) schema.format = 'int32';
  for (const value of Object.values(schema)) formatIntegers(value);
}

/** Adds `errors` to the operation's responses, merging codes into an existing error response. */
function addErrors(operation: OperationObject, ...errors: ErrorDefinition[]): void {
  knowErrors(...errors);
  for (const status of new Set(errors.map((e) => Number(e.status)))) {
    const codes = errors.filter((e) => Number(e.status) === status).map((e) => e.code);
    const existing = operation.responses[status];
    const existingCodes = codesOf(existing);
    // A non-error response documented for this status (none today) is left alone.
    if (existing !== undefined && existingCodes.length === 0 && 'content' in existing) continue;
    operation.responses[status] = errorResponse(status, [...existingCodes, ...codes]);
  }
}

/**
 * Rewrites schema references that tools misread. OpenAPI 3.0 ignores `nullable` beside `allOf`/`$ref` (no `type` in the same object), so
 * validators read `{ nullable: true, allOf: [{ $ref }] }` as "never null". Rewrites it as
 * `anyOf: [{ $ref }, null]`, which every 3.0 tool reads the same way.
 */
function fixReferences(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) fixReferences(item);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const schema = node as SchemaObject & Record<string, unknown>;
  if (schema.nullable === true && Array.isArray(schema.allOf) && schema.allOf.length === 1) {
    const [ref] = schema.allOf;
    delete schema.allOf;
    delete schema.nullable;
    delete schema.type;
    schema.anyOf = [ref!, { type: 'object', nullable: true, enum: [null] }];
  } else if (Object.keys(schema).length === 1 && schema.allOf?.length === 1) {
    // Nest wraps enum references in a one-element allOf; the reference alone says the same.
    const [ref] = schema.allOf;
    delete schema.allOf;
    Object.assign(schema, ref);
  }
  for (const value of Object.values(schema)) fixReferences(value);
}

/** The global ValidationPipe rejects unknown fields (forbidNonWhitelisted): say so on DTO bodies. */
function closeBodySchema(document: OpenAPIObject, media: unknown): void {
  const ref = (media as { schema?: { $ref?: string } } | undefined)?.schema?.$ref;
  const name = ref?.replace('#/components/schemas/', '');
  const schema = name === undefined ? undefined : document.components?.schemas?.[name];
  if (schema !== undefined && !('$ref' in schema)) schema.additionalProperties = false;
}

/**
 * What the decorators cannot say per route, added to the generated document once: `security: []`
 * on public operations, the errors the global pipeline can answer on any operation (500 on all,
 * 401 without a valid token, 400/413/415 wherever a body can be sent, 400 for parameters and
 * cursors, 503 when the database is down), the RateLimit headers of @RateLimit operations, the
 * declared tags, a server, integer formats, and nullable references that validators read
 * correctly.
 */
export function finalizeOpenApiDocument(
  document: OpenAPIObject,
  options: FinalizeOptions,
): OpenAPIObject {
  document.servers = [
    { url: '/', description: 'This server: the API under /api/v1, health probes at /health' },
  ];
  const declared = new Set(options.tags.map((tag) => tag.name));
  document.tags = [...options.tags];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation === undefined) continue;
      // The user access token (`bearer`); other schemes (METRICS_TOKEN) document their own errors.
      const authenticated = (operation.security ?? []).some((scheme) => 'bearer' in scheme);
      const extensions = operation as unknown as Record<string, unknown>;
      if ((operation.security ?? []).length === 0) operation.security = [];
      if (authenticated) {
        addErrors(operation, ...options.authenticated);
        if (extensions[ALLOW_UNVERIFIED_EMAIL_EXTENSION] !== true) {
          addErrors(operation, ...options.verifiedEmail);
        }
      }
      delete extensions[ALLOW_UNVERIFIED_EMAIL_EXTENSION];
      if (extensions[VERIFIED_EMAIL_EXTENSION] === true) {
        operation.description = [operation.description, VERIFIED_EMAIL_RULE]
          .filter((part) => part !== undefined && part !== '')
          .join('\n\n');
      }
      // @TeamRole(role, { apiKey }) names the scope; say it in words beside the security scheme.
      const scope = extensions[API_KEY_SCOPE_EXTENSION];
      if (typeof scope === 'string') {
        operation.description = [
          operation.description,
          `Also accepts a team API key of this team (\`Authorization: Bearer nsk_…\`) with the scope \`${scope}\`.`,
        ]
          .filter((part) => part !== undefined && part !== '')
          .join('\n\n');
      }

      for (const tag of operation.tags ?? []) {
        if (!declared.has(tag)) {
          throw new Error(`${method.toUpperCase()} ${path} uses the tag "${tag}", not declared`);
        }
      }
      addErrors(operation, ...options.every);
      const policy = extensions[RATE_LIMIT_EXTENSION];
      delete extensions[RATE_LIMIT_EXTENSION];

      const parameters = (operation.parameters ?? []) as ParameterObject[];
      const body = operation.requestBody as { content?: Record<string, unknown> } | undefined;
      const jsonBody = body?.content?.['application/json'] !== undefined;
      if (BODY_METHODS.has(method)) addErrors(operation, ...options.jsonBody);
      if (jsonBody) {
        closeBodySchema(document, body?.content?.['application/json']);
        const schema = (body?.content?.['application/json'] as { schema?: { $ref?: string } })
          .schema;
        if (schema?.$ref !== undefined) addErrors(operation, ...options.dtoBody);
      }
      if (parameters.some((p) => p.in === 'path' || p.in === 'query')) {
        addErrors(operation, ...options.parameters);
      }
      if (parameters.some((p) => p.in === 'query' && p.name === 'cursor')) {
        addErrors(operation, ...options.cursor);
      }
      const api = path.startsWith('/api/');
      if (api && !options.withoutDatabase.has(operation.operationId ?? '')) {
        addErrors(operation, ...options.database);
      }
      // After every error is in, so that the 429 is there to carry them.
      if (typeof policy === 'string') addRateLimitHeaders(operation, policy);
      operation.responses = Object.fromEntries(
        Object.entries(operation.responses).sort(([a], [b]) => a.localeCompare(b)),
      );
    }
  }
  for (const [name, rules] of objectRules()) {
    const schema = document.components?.schemas?.[name];
    if (schema !== undefined && !('$ref' in schema)) Object.assign(schema, rules);
  }
  fixReferences(document.components);
  fixReferences(document.paths);
  formatIntegers(document.components);
  formatIntegers(document.paths);
  return document;
}
