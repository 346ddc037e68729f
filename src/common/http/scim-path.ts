import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { ErrorResponseDto } from '../errors/error-response.dto.js';

/** Where the SCIM 2.0 service lives (outside the API's /api/v1 prefix, API.md v1.2). */
export const SCIM_ROOT_PATH = '/scim/v2';

/** RFC 7644 §3.1: the media type of SCIM requests and responses. */
export const SCIM_MEDIA_TYPE = 'application/scim+json';

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** True for /scim/v2 and anything under it (case-insensitive, like the app's routing). */
export function isScimRequest(req: IncomingMessage & { originalUrl?: string }): boolean {
  const url = (req.originalUrl ?? req.url ?? '').toLowerCase();
  return (
    url === SCIM_ROOT_PATH ||
    url.startsWith(`${SCIM_ROOT_PATH}/`) ||
    url.startsWith(`${SCIM_ROOT_PATH}?`)
  );
}

/** RFC 7644 §3.12: an error as a SCIM client reads it. */
export interface ScimErrorBody {
  schemas: [typeof SCIM_ERROR_SCHEMA];
  status: string;
  scimType?: string;
  detail: string;
}

/**
 * The `scimType` (RFC 7644 §3.12, table 9) of an error code: the scim module's `scim.<type>`
 * codes (`scim.invalid_filter` → `invalidFilter`), and the pipeline's own body errors. Other
 * errors (404, 401, 409 last owner, 429...) carry no scimType.
 */
function scimTypeOf(code: string): string | undefined {
  if (code === 'request.malformed_json' || code === 'request.too_deep') return 'invalidSyntax';
  if (code === 'request.invalid') return 'invalidValue';
  if (!code.startsWith('scim.')) return undefined;
  const type = code.slice('scim.'.length).replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return SCIM_TYPES.has(type) ? type : undefined;
}

/** RFC 7644 §3.12, table 9. */
const SCIM_TYPES: ReadonlySet<string> = new Set([
  'invalidFilter',
  'tooMany',
  'uniqueness',
  'mutability',
  'invalidSyntax',
  'invalidPath',
  'noTarget',
  'invalidValue',
  'invalidVers',
  'sensitive',
]);

/** The API's error body as a SCIM error body: same status, its message as `detail`. */
export function toScimErrorBody(body: ErrorResponseDto): ScimErrorBody {
  const scimType = scimTypeOf(body.code);
  return {
    schemas: [SCIM_ERROR_SCHEMA],
    status: String(body.statusCode),
    ...(scimType === undefined ? {} : { scimType }),
    detail: body.message,
  };
}

/**
 * SCIM responses are `application/scim+json` (RFC 7644 §3.1), errors included: what Nest
 * serialised as JSON under /scim/v2 is sent with the SCIM media type.
 */
export function registerScimMediaType(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (request: FastifyRequest, reply, payload, done) => {
    if (isScimRequest(request.raw)) {
      const type = reply.getHeader('content-type');
      if (typeof type === 'string' && type.startsWith('application/json')) {
        void reply.header('content-type', `${SCIM_MEDIA_TYPE}; charset=utf-8`);
      }
    }
    done(null, payload);
  });
}
