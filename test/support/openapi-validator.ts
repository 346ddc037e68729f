import type { OpenAPIObject } from '@nestjs/swagger';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Response } from 'supertest';

// ajv-formats is CommonJS with a default export; under ESM interop it may arrive wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

const DOC_ID = 'openapi.json';
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'] as const;

interface MediaTypeObject {
  schema?: unknown;
}
interface ResponseObject {
  content?: Record<string, MediaTypeObject>;
  headers?: Record<string, { required?: boolean }>;
}
interface Operation {
  operationId?: string;
  responses: Record<string, ResponseObject>;
}
interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  params: number;
  operation: Operation;
}

const escapePointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Checks HTTP responses against the OpenAPI document: the status must be documented for the
 * operation and a JSON body must match that status's schema, with no property the document
 * does not list (OpenAPI 3.0 `nullable` is read by ajv itself; formats by ajv-formats). Requests that match no operation of the document
 * (/admin, /docs, unknown routes, methods) are not checked.
 */
export class OpenApiResponseValidator {
  private readonly ajv: Ajv;
  private readonly routes: Route[];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(document: OpenAPIObject) {
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ ...closeComponentSchemas(structuredClone(document)), $id: DOC_ID });
    this.routes = Object.entries(document.paths)
      .flatMap(([template, item]) =>
        METHODS.filter((m) => item[m] !== undefined).map((method) => {
          const source = template
            .split(/(\{[^}]+\})/)
            .map((part) =>
              part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
            )
            .join('');
          return {
            method,
            template,
            pattern: new RegExp(`^${source}$`),
            params: (template.match(/\{/g) ?? []).length,
            operation: item[method] as unknown as Operation,
          };
        }),
      )
      // A literal segment wins over a parameter (`/invitations/accept` before `/invitations/{id}`).
      .sort((a, b) => a.params - b.params);
  }

  /** The problem with this response, or undefined when it matches the document (or is not in it). */
  check(method: string, url: string, res: Response): string | undefined {
    const path = new URL(url, 'http://x').pathname;
    const route = this.routes.find(
      (r) => r.method === method.toLowerCase() && r.pattern.test(path),
    );
    if (route === undefined) return undefined;
    const status = String(res.status);
    const where = `${method.toUpperCase()} ${path} (operation ${route.operation.operationId ?? route.template}) answered ${status}`;
    const response = route.operation.responses[status];
    if (response === undefined) {
      const documented = Object.keys(route.operation.responses).join(', ');
      return `${where}, which the OpenAPI document does not list (documented: ${documented}). Body: ${excerpt(res)}`;
    }
    for (const [name, header] of Object.entries(response.headers ?? {})) {
      if (header.required === true && res.headers[name.toLowerCase()] === undefined) {
        return `${where} without the required header ${name}`;
      }
    }
    const contentType = String(res.headers['content-type'] ?? '');
    const isJson = /^application\/(.+\+)?json/.test(contentType);
    const media = response.content?.['application/json'];
    if (!isJson) return undefined;
    if (media?.schema === undefined) {
      return `${where} with a JSON body, but the document gives this status no JSON content. Body: ${excerpt(res)}`;
    }
    const validate = this.validatorFor(route, status);
    if (validate(res.body)) return undefined;
    return `${where} with a body that does not match its schema:\n${formatErrors(validate.errors)}\nBody: ${excerpt(res)}`;
  }

  /** Whether the document accepts `body` as the JSON request body of `method template`. */
  acceptsRequestBody(method: string, template: string, body: unknown): boolean {
    return this.compile([
      'paths',
      template,
      method.toLowerCase(),
      'requestBody',
      'content',
      'application/json',
      'schema',
    ])(body);
  }

  private validatorFor(route: Route, status: string): ValidateFunction {
    return this.compile([
      'paths',
      route.template,
      route.method,
      'responses',
      status,
      'content',
      'application/json',
      'schema',
    ]);
  }

  private compile(segments: string[]): ValidateFunction {
    const ref = `${DOC_ID}#/${segments.map(escapePointer).join('/')}`;
    let validate = this.compiled.get(ref);
    if (validate === undefined) {
      validate = this.ajv.compile({ $ref: ref });
      this.compiled.set(ref, validate);
    }
    return validate;
  }
}

/**
 * OpenAPI objects allow unlisted properties unless they say otherwise; here every named DTO
 * schema is closed, so a response field the document does not describe (a new field nobody
 * documented, a leaked column) fails the check instead of slipping past generated clients.
 */
function closeComponentSchemas(document: OpenAPIObject): OpenAPIObject {
  for (const schema of Object.values(document.components?.schemas ?? {})) {
    const object = schema as { properties?: unknown; additionalProperties?: unknown };
    if (object.properties !== undefined && object.additionalProperties === undefined) {
      object.additionalProperties = false;
    }
  }
  return document;
}

function formatErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => `  ${e.instancePath || '(body)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
    .join('\n');
}

function excerpt(res: Response): string {
  const text = res.text ?? JSON.stringify(res.body);
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}
