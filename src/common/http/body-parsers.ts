import type { FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { CommonErrors } from '../errors/common.errors.js';
import { errorCode } from '../errors/error-code.js';
import { isAdminRequest } from './admin-path.js';
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from './json-depth.js';

/**
 * The API's body parsers on Fastify: JSON as Express's body-parser read it (`strict: true`)
 * plus the depth scan, and a 415 for any other body. Errors are AppErrors, rendered by the
 * global exception filter like any other.
 */

type Done = (error: Error | null, body?: unknown) => void;
type RequestWithRawBody = FastifyRequest & { rawBody?: Buffer };

/** The `charset` parameter of the Content-Type header, lowercased (undefined when absent). */
function charsetOf(req: FastifyRequest): string | undefined {
  const header = req.headers['content-type'] ?? '';
  return /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(header)?.[1]?.toLowerCase();
}

/** `iconv.decode` (body-parser) dropped a leading byte order mark. */
function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * `application/json`: UTF-8 only (RFC 8259 §8.1; another `utf-*` charset is a 415
 * `request.unsupported_charset`, since the depth scan reads UTF-8 bytes; anything else a 415
 * `request.unsupported_media_type`, as body-parser answered), nesting deeper than
 * MAX_JSON_DEPTH is a 400 `request.too_deep` in one linear pass before JSON.parse, the bytes are
 * kept as `request.rawBody` (Stripe webhook signature). An empty body is `{}`; anything but an
 * object or array at the top (body-parser's strict mode) or invalid JSON is a 400
 * `request.malformed_json`. JSON.parse keeps `__proto__` as an ordinary own key, which the
 * validation pipe then refuses like any unknown field.
 */
export function parseJsonBody(req: FastifyRequest, body: Buffer | string, done: Done): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  if (isAdminRequest(req.raw)) {
    done(null, undefined);
    return;
  }
  const charset = charsetOf(req) ?? 'utf-8';
  if (charset !== 'utf-8') {
    done(
      charset.startsWith('utf-')
        ? CommonErrors.unsupportedCharset()
        : CommonErrors.unsupportedMediaType(),
    );
    return;
  }
  if (jsonNestsDeeperThan(bytes, MAX_JSON_DEPTH)) {
    done(
      CommonErrors.tooDeep(
        `The request body nests arrays/objects deeper than ${MAX_JSON_DEPTH} levels`,
      ),
    );
    return;
  }
  (req as RequestWithRawBody).rawBody = bytes;
  if (bytes.length === 0) {
    done(null, {});
    return;
  }
  const text = withoutBom(bytes.toString('utf8'));
  const first = /^[ \t\n\r]*(.)/.exec(text)?.[1];
  if (first !== '{' && first !== '[') {
    done(CommonErrors.malformedJson());
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    done(CommonErrors.malformedJson());
    return;
  }
  done(null, parsed);
}

/** A media type as a client may send it (`type/subtype`), else undefined: safe to echo back. */
function mediaTypeOf(req: FastifyRequest): string | undefined {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return /^[a-z0-9][\w!#$&^.+-]{0,63}\/[a-z0-9][\w!#$&^.+-]{0,63}$/.test(type) ? type : undefined;
}

/**
 * Any body that is not JSON, forms included: a 415 `request.unsupported_media_type`, so a
 * client learns at once that its body was not read (it used to be dropped silently, and a DTO
 * then failed with misleading "missing field" errors). The API documents JSON bodies only; a
 * form post is also what a cross-site page can send without a CORS preflight. An empty body of
 * any type is no body (a bodyless POST with a stray Content-Type reaches its route); an unknown
 * route keeps its 404; /admin is the panel's (its own Fastify instance reads its own forms and
 * multipart bodies before Fastify, and with the panel off /admin is a 404).
 */
export function refuseBody(req: FastifyRequest, body: Buffer | string, done: Done): void {
  if (body.length === 0 || req.is404 || isAdminRequest(req.raw)) {
    done(null, undefined);
    return;
  }
  const type = mediaTypeOf(req);
  done(
    CommonErrors.unsupportedMediaType(
      `${type === undefined ? 'A body without a valid content type' : `Content type "${type}"`} is not accepted: send application/json`,
    ),
  );
}

/**
 * `Content-Encoding` of a request body, as body-parser handled it: gzip, deflate and br are
 * inflated before the parsers (the body limit then counts inflated bytes, as body-parser's
 * did), identity passes, anything else is a 415 `request.unsupported_media_type`.
 */
export function inflate(req: IncomingMessage, payload: Readable): Readable {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  let inflater: ReturnType<typeof createGunzip> | undefined;
  switch (encoding) {
    case 'identity':
      return payload;
    case 'gzip':
      inflater = createGunzip();
      break;
    case 'deflate':
      inflater = createInflate();
      break;
    case 'br':
      inflater = createBrotliDecompress();
      break;
    default:
      throw CommonErrors.unsupportedMediaType(`Unsupported content encoding "${encoding}"`);
  }
  // Fastify compares Content-Length with the bytes received, i.e. the compressed ones.
  const stream = inflater as typeof inflater & { receivedEncodedLength: number };
  stream.receivedEncodedLength = 0;
  payload.on('data', (chunk: Buffer) => (stream.receivedEncodedLength += chunk.length));
  payload.on('error', (error) => stream.destroy(error));
  return payload.pipe(stream);
}

/**
 * A body that cannot be inflated (not gzip, truncated...): the client's error, a 400. zlib's
 * errors (`Z_DATA_ERROR`...) are told by their code: they come from Node's own realm, where
 * `instanceof Error` fails inside Jest's VM.
 */
export function isInflateError(error: unknown): boolean {
  return errorCode(error)?.startsWith('Z_') === true;
}

/** Route config (`@RouteConfig(FORM_BODY_ROUTE)`) of the one route that reads a form body. */
export const FORM_BODY_ROUTE = { formBody: true } as const;

/**
 * `application/x-www-form-urlencoded`, read only on routes marked `@RouteConfig(FORM_BODY_ROUTE)`
 * (the SAML ACS: an IdP answers through the browser with an auto-submitted HTML form, and its
 * content is authenticated by its XML signature, not by the request). Everywhere else a form
 * is refused like any other non-JSON body (refuseBody). Fields become a plain object of
 * strings (the last value of a repeated name).
 */
export function parseFormBody(req: FastifyRequest, body: Buffer | string, done: Done): void {
  const config = req.routeOptions?.config as { formBody?: boolean } | undefined;
  if (config?.formBody !== true) {
    refuseBody(req, body, done);
    return;
  }
  const charset = charsetOf(req) ?? 'utf-8';
  if (charset !== 'utf-8') {
    done(CommonErrors.unsupportedCharset());
    return;
  }
  const text = typeof body === 'string' ? body : body.toString('utf8');
  done(null, Object.fromEntries(new URLSearchParams(text)));
}
