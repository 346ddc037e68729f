import type { FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { AppError } from '../../common/errors/app-error.js';
import { CommonErrors } from '../../common/errors/common.errors.js';
import { isDataException } from '../../common/errors/pg-errors.js';
import { findNulString } from '../../common/http/validation.pipe.js';
import { AdminErrors } from './admin.errors.js';

/** Methods whose body, if any, nobody reads. */
const BODYLESS_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The one method a cross-site request may use: navigations and subresource loads are GETs, and
 * no action writes on GET (admin.resources.ts). HEAD is not exempt: Express routes it to the
 * GET routes and AdminJS handed it to the actions as a write.
 */
const CROSS_SITE_METHODS: ReadonlySet<string> = new Set(['GET']);

/** What AdminJS's forms and API client send. */
const BODY_TYPES = ['multipart/form-data', 'application/x-www-form-urlencoded', 'application/json'];

/** What the checks below read of a request (Fastify's request has all of it). */
export type PanelRequest = Pick<FastifyRequest, 'method' | 'headers' | 'protocol' | 'host'>;

/**
 * The origin the browser used to reach this request: Fastify's `request.protocol` and
 * `request.host` honour X-Forwarded-Proto / X-Forwarded-Host exactly when TRUST_PROXY trusts
 * the proxy (the panel's Fastify has the API's trustProxy).
 */
export function requestOrigin(req: PanelRequest): string | undefined {
  const host = req.host;
  if (!host) return undefined;
  try {
    return new URL(`${req.protocol}://${host}`).origin;
  } catch {
    return undefined;
  }
}

/**
 * Why a request that is not a GET must be refused as cross-origin, or undefined when it may pass.
 *
 * - `Sec-Fetch-Site`, when present, must be `same-origin` (browsers set it and pages cannot
 *   forge it; `same-site` is exactly the sibling-subdomain attack).
 * - `Origin`, when present, must be the request's own origin or APP_URL's (the public origin
 *   when a TLS-terminating proxy is not trusted with X-Forwarded-Proto). `null` never matches.
 * - Neither header: not a browser (every browser sends Origin on a cross-origin POST, and
 *   current ones send Sec-Fetch-Site on every request), so no victim's cookie is riding on it;
 *   curl and scripts keep working.
 */
export function crossOriginRefusal(req: PanelRequest, trustedOrigin: string): string | undefined {
  if (CROSS_SITE_METHODS.has(req.method)) return undefined;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return `Sec-Fetch-Site is "${site}"`;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== requestOrigin(req) && origin !== trustedOrigin) {
    return `Origin "${origin}" is not this site`;
  }
  return undefined;
}

/** A body of a type the panel does not parse: 415 before it is read. */
export function unsupportedBody(
  req: Pick<FastifyRequest, 'method' | 'headers'>,
): AppError | undefined {
  if (BODYLESS_METHODS.has(req.method)) return undefined;
  const length = Number(req.headers['content-length'] ?? 0);
  if (!(length > 0)) return undefined;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return BODY_TYPES.includes(type)
    ? undefined
    : new AppError(
        'request.unsupported_media_type',
        415,
        `The admin panel accepts ${BODY_TYPES.join(', ')} bodies`,
      );
}

/**
 * A request body's fields as plain values: @fastify/multipart (AdminJS's `attachFieldsToBody`)
 * gives each field as `{ type: 'field', value }`, @fastify/formbody and JSON as they are.
 */
export function formFields(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null) return {};
  const value = (entry: unknown): unknown =>
    Array.isArray(entry)
      ? entry.map(value)
      : isMultipartPart(entry)
        ? entry.type === 'field'
          ? entry.value
          : entry
        : entry;
  return Object.fromEntries(Object.entries(body).map(([key, entry]) => [key, value(entry)]));
}

/** A part of a multipart body as @fastify/multipart attaches it to the body. */
interface MultipartPart {
  type: 'field' | 'file';
  fieldname: string;
  value?: unknown;
}

function isMultipartPart(entry: unknown): entry is MultipartPart {
  if (typeof entry !== 'object' || entry === null) return false;
  const part = entry as Partial<MultipartPart>;
  return (part.type === 'field' || part.type === 'file') && typeof part.fieldname === 'string';
}

/** Whether a parsed body holds a file part (the panel has no uploads). */
export function hasFilePart(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  return Object.values(body).some((entry) =>
    (Array.isArray(entry) ? entry : [entry]).some(
      (part) => isMultipartPart(part) && part.type === 'file',
    ),
  );
}

/** PostgreSQL text cannot hold U+0000: refused in the URL, the query and the form fields. */
export function nulCharacterRefusal(
  req: Pick<FastifyRequest, 'url' | 'query' | 'body'>,
): AppError | undefined {
  const path = req.url.split('?', 1)[0]!;
  const inPath = /%00/i.test(path) ? 'path' : undefined;
  const field =
    inPath ?? findNulString(req.query, 'query') ?? findNulString(formFields(req.body), 'body');
  return field === undefined
    ? undefined
    : CommonErrors.validation('Invalid request', [
        { field, message: 'must not contain NUL (U+0000) characters' },
      ]);
}

const CODES_BY_STATUS: Record<number, string> = {
  400: 'request.invalid',
  403: 'auth.forbidden',
  404: 'route.not_found',
};

/**
 * Errors that leave the AdminJS router, as the app's error filter should render them: AdminJS's
 * own NotFound/Forbidden/Validation errors carry a 4xx `statusCode`, and a data exception from
 * PostgreSQL is bad input that got through (its statement failed, so nothing was written).
 * Anything else stays an unexpected 500 and is logged by the filter.
 */
export function toAdminHttpError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new AppError(
      CODES_BY_STATUS[status] ?? `http.${status}`,
      status,
      STATUS_CODES[status] ?? 'Bad Request',
    );
  }
  if (isDataException(error)) return AdminErrors.invalidInput();
  return error;
}
