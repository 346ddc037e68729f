import type { FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import qs from 'qs';
import { CommonErrors } from '../errors/common.errors.js';
import { errorCode } from '../errors/error-code.js';
import { isAdminRequest } from '../../modules/admin/admin-path.js';
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from './json-depth.js';

/**
 * The API's body parsers on Fastify, keeping what Express's body-parser did (JSON with
 * `strict: true`, urlencoded with `extended: false`) and adding the depth scan. Errors are
 * AppErrors, rendered by the global exception filter like any other.
 */

type Done = (error: Error | null, body?: unknown) => void;
type RequestWithRawBody = FastifyRequest & { rawBody?: Buffer };

const FORM_PARAMETER_LIMIT = 1000;

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

/**
 * `application/x-www-form-urlencoded` as body-parser's `extended: false`: qs at depth 0, so
 * `a[b][c]=1` stays the flat key "a[b][c]" and a form body cannot nest at all (a repeated key
 * gives one array of strings); at most 1000 parameters (else 413); UTF-8 or ISO-8859-1.
 */
export function parseFormBody(req: FastifyRequest, body: Buffer | string, done: Done): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  if (isAdminRequest(req.raw)) {
    done(null, undefined);
    return;
  }
  const charset = charsetOf(req) ?? 'utf-8';
  if (charset !== 'utf-8' && charset !== 'iso-8859-1') {
    done(CommonErrors.unsupportedMediaType());
    return;
  }
  (req as RequestWithRawBody).rawBody = bytes;
  const text = withoutBom(bytes.toString(charset === 'utf-8' ? 'utf8' : 'latin1'));
  if (text.length === 0) {
    done(null, {});
    return;
  }
  const parameters = text.split('&').length;
  if (parameters > FORM_PARAMETER_LIMIT) {
    done(CommonErrors.payloadTooLarge('Too many form parameters'));
    return;
  }
  try {
    done(
      null,
      qs.parse(text, {
        allowPrototypes: true,
        arrayLimit: parameters,
        depth: 0,
        charset,
        parameterLimit: FORM_PARAMETER_LIMIT,
        strictDepth: true,
      }),
    );
  } catch {
    done(CommonErrors.validation('The form body could not be parsed'));
  }
}

/**
 * Any other content type is not read (Express's parsers skipped it too): the route sees no
 * body, and a DTO body then fails validation with its missing fields.
 */
export function skipBody(_req: FastifyRequest, _payload: unknown, done: Done): void {
  done(null, undefined);
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
