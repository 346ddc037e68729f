import {
  ApiResponse,
  getSchemaPath,
  type HeadersObject,
  type ResponseObject,
  type SchemaObject,
} from '@nestjs/swagger';
import type { ErrorDefinition } from '../errors/app-error.js';
import { ErrorResponseDto } from '../errors/error-response.dto.js';

const API_ERRORS_KEY = 'nest-saas:api-errors';
/** @nestjs/swagger's metadata key of `@ApiResponse` (DECORATORS.API_RESPONSE, not exported). */
const SWAGGER_RESPONSES_KEY = 'swagger/apiResponse';

/** Every catalogue entry documented so far, by code, so merged responses can describe each code. */
const known = new Map<string, ErrorDefinition>();

function remember(errors: readonly ErrorDefinition[]): void {
  for (const error of errors) if (!known.has(error.code)) known.set(error.code, error);
}

function retryAfter(required: boolean): HeadersObject {
  return {
    'Retry-After': {
      description: required
        ? 'Seconds to wait before retrying'
        : 'Seconds to wait before retrying; sent with `service.unavailable`',
      required,
      schema: { type: 'integer', minimum: 0 },
    },
  };
}

/** The error body of one status, its `code` limited to the codes the operation can answer. */
export function errorSchema(status: number, codes: readonly string[]): SchemaObject {
  return {
    allOf: [
      { $ref: getSchemaPath(ErrorResponseDto) },
      {
        type: 'object',
        properties: {
          statusCode: { type: 'integer', enum: [status] },
          code: { type: 'string', enum: [...codes] },
        },
      },
    ],
  };
}

/** The OpenAPI response for `status` answering any of `codes` (each described from the catalogue). */
export function errorResponse(status: number, codes: readonly string[]): ResponseObject {
  const unique = [...new Set(codes)].sort();
  const response: ResponseObject = {
    description: unique
      .map((code) => `- \`${code}\`: ${known.get(code)?.message ?? code}`)
      .join('\n'),
    content: { 'application/json': { schema: errorSchema(status, unique) } },
  };
  // 429 always carries Retry-After; of the 503s only `service.unavailable` does.
  if (status === 429) response.headers = retryAfter(true);
  else if (status === 503 && unique.includes('service.unavailable')) {
    response.headers = retryAfter(false);
  }
  return response;
}

/** The codes an error response built by `errorResponse` lists (empty for any other response). */
export function codesOf(response: unknown): string[] {
  const schema = (response as ResponseObject | undefined)?.content?.['application/json']?.schema as
    SchemaObject | undefined;
  const part = schema?.allOf?.[1] as SchemaObject | undefined;
  const code = part?.properties?.code as SchemaObject | undefined;
  return Array.isArray(code?.enum) ? (code.enum as string[]) : [];
}

/**
 * Documents the errors an operation (or every operation of a controller) answers, straight
 * from the modules' error catalogues: `@ApiErrors(TeamErrors.lastOwner, UserErrors.emailTaken)`.
 * One response per status; its description lists each code with its message and its schema
 * pins `code` to exactly those codes, so generated clients and validating proxies know them.
 * Repeated use (also through composite decorators such as `@TeamRole`) accumulates.
 */
export function ApiErrors(...errors: ErrorDefinition[]): MethodDecorator & ClassDecorator {
  remember(errors);
  const decorator = (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const holder = (descriptor?.value as object | undefined) ?? target;
    const all: ErrorDefinition[] = [
      ...((Reflect.getMetadata(API_ERRORS_KEY, holder) as ErrorDefinition[] | undefined) ?? []),
      ...errors,
    ];
    Reflect.defineMetadata(API_ERRORS_KEY, all, holder);
    const statuses = [...new Set(all.map((error) => Number(error.status)))];
    // ApiResponse appends to an existing description of the same status; this one replaces it.
    const responses = {
      ...((Reflect.getMetadata(SWAGGER_RESPONSES_KEY, holder) as object | undefined) ?? {}),
    } as Record<string, unknown>;
    for (const status of statuses) delete responses[status];
    Reflect.defineMetadata(SWAGGER_RESPONSES_KEY, responses, holder);
    for (const status of statuses) {
      const codes = all.filter((error) => Number(error.status) === status).map((e) => e.code);
      const { description, content, headers } = errorResponse(status, codes);
      const schema = content?.['application/json']?.schema as SchemaObject;
      ApiResponse({ status, description, schema, headers })(target, key!, descriptor!);
    }
    return descriptor ?? target;
  };
  return decorator as MethodDecorator & ClassDecorator;
}

/** Registers catalogue entries that only the document finalizer adds (401, 413, 503, ...). */
export function knowErrors(...errors: ErrorDefinition[]): void {
  remember(errors);
}
