import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { AppError, type ErrorDetail } from './app-error.js';
import { CommonErrors } from './common.errors.js';
import type { ErrorResponseDto } from './error-response.dto.js';
import { errorCode } from './error-code.js';
import { RateLimitedError } from '../rate-limit/rate-limit.errors.js';
import { isDatabaseUnavailable } from './pg-errors.js';
import { isInflateError } from '../http/body-parsers.js';
import { isScimRequest, SCIM_MEDIA_TYPE, toScimErrorBody } from '../http/scim-path.js';
import { redactUrl } from '../logging/redact-url.js';
import { noteErrorCode } from '../logging/request-log.js';
import { localizedErrorMessage, requestLocale } from '../i18n/error-messages.js';
import { DEFAULT_LOCALE, type Locale } from '../i18n/locales.js';

/** Seconds a client is asked to wait (`Retry-After`) when the database is unavailable. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

const CODES_BY_STATUS: Record<number, string> = {
  400: 'request.invalid',
  401: 'auth.unauthorized',
  403: 'auth.forbidden',
  404: 'route.not_found',
  405: 'request.method_not_allowed',
  409: 'request.conflict',
  413: 'request.too_large',
  415: 'request.unsupported_media_type',
  429: 'request.rate_limited',
  503: 'service.unavailable',
};

/** Errors shaped like body-parser's (`type` and `status`), as a connect-style parser raises them. */
interface BodyParserError {
  type: string;
  status: number;
  expose?: boolean;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { type?: unknown }).type === 'string' &&
    typeof (error as { status?: unknown }).status === 'number'
  );
}

/** Fastify's own errors (router, body reading, content-type parsing): `FST_ERR_*` codes. */
interface FastifyError {
  code: string;
  statusCode?: number;
  message: string;
}

function isFastifyError(error: unknown): error is FastifyError {
  return errorCode(error)?.startsWith('FST_') === true;
}

/** Fastify's client errors in the API's terms (a bug of ours, e.g. a reply sent twice, is a 500). */
function fromFastifyError(error: FastifyError): AppError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return CommonErrors.payloadTooLarge();
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_TYPE':
      return CommonErrors.unsupportedMediaType();
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return CommonErrors.malformedJson();
    case 'FST_ERR_BAD_URL':
      return CommonErrors.validation('The request URL is not validly percent-encoded');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return CommonErrors.validation('The request body does not match its Content-Length');
  }
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new AppError(
      CODES_BY_STATUS[status] ?? `http.${status}`,
      status,
      STATUS_CODES[status] ?? 'Bad Request',
    );
  }
  return undefined;
}

export interface RenderedError {
  body: ErrorResponseDto;
  /** A bug or an unknown failure: logged in full, rendered as a generic 500. */
  unexpected: boolean;
  /** The database (or another backend) is unreachable or too slow: worth a log line. */
  unavailable: boolean;
  /** Value of the `Retry-After` header, when the client should retry. */
  retryAfterSeconds?: number;
}

/**
 * Maps any thrown value to the API's error body, its `message` in `locale` (see
 * common/i18n/error-messages); unknown errors become a logged, generic 500.
 */
export function toErrorResponse(error: unknown, locale: Locale = DEFAULT_LOCALE): RenderedError {
  let appError: AppError | undefined;
  // An adapter may wrap a parser's failure in an HttpException with the original as cause.
  if (
    error instanceof HttpException &&
    (isBodyParserError(error.cause) ||
      isFastifyError(error.cause) ||
      error.cause instanceof AppError)
  ) {
    error = error.cause;
  }
  if (error instanceof AppError) {
    appError = error;
  } else if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    let message = error.message;
    let details: ErrorDetail[] | undefined;
    if (typeof response === 'object' && response !== null) {
      const raw = (response as { message?: unknown }).message;
      if (Array.isArray(raw)) {
        details = raw.map((m) => ({ message: String(m) }));
        message = 'Invalid request';
      } else if (typeof raw === 'string') {
        message = raw;
      }
    }
    appError = new AppError(CODES_BY_STATUS[status] ?? `http.${status}`, status, message, details);
  } else if (isFastifyError(error)) {
    appError = fromFastifyError(error);
  } else if (isInflateError(error)) {
    appError = CommonErrors.validation('The request body could not be decompressed');
  } else if (isBodyParserError(error)) {
    if (error.type === 'entity.too.large') appError = CommonErrors.payloadTooLarge();
    else if (error.type === 'entity.parse.failed') appError = CommonErrors.malformedJson();
    else if (error.status >= 400 && error.status < 500 && error.expose !== false) {
      appError = new AppError(
        CODES_BY_STATUS[error.status] ?? `http.${error.status}`,
        error.status,
        STATUS_CODES[error.status] ?? 'Bad Request',
      );
    }
  }
  if (appError === undefined && isDatabaseUnavailable(error)) {
    return {
      body: bodyOf(CommonErrors.serviceUnavailable(), locale),
      unexpected: false,
      unavailable: true,
      retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS,
    };
  }
  const unexpected = appError === undefined;
  const rendered: RenderedError = {
    body: bodyOf(appError ?? CommonErrors.internal(), locale),
    unexpected,
    unavailable: false,
  };
  // A limit hit inside a service (not by the route guard, which sets the header itself).
  if (appError instanceof RateLimitedError) rendered.retryAfterSeconds = appError.retryAfterSeconds;
  return rendered;
}

function bodyOf(error: AppError, locale: Locale): ErrorResponseDto {
  const body: ErrorResponseDto = {
    statusCode: error.status,
    error: STATUS_CODES[error.status] ?? 'Error',
    code: error.code,
    message: localizedErrorMessage(error.code, error.message, locale),
  };
  if (error.details !== undefined && error.details.length > 0) body.details = error.details;
  return body;
}

@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ExceptionFilter');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const adapter = this.adapterHost.httpAdapter;
    const response: unknown = ctx.getResponse();
    const request = ctx.getRequest<
      IncomingMessage & { id?: unknown; originalUrl?: string; user?: { locale?: string } }
    >();
    const { body, unexpected, unavailable, retryAfterSeconds } = toErrorResponse(
      exception,
      requestLocale(request),
    );
    noteErrorCode(request, body.code);
    // The logger's error serializer keeps a failed query's SQL and drops its parameters.
    const context = {
      err: exception,
      requestId: request.id,
      method: request.method,
      url: redactUrl(request.originalUrl ?? request.url ?? ''),
    };
    if (unexpected) this.logger.error(context, 'Unhandled error');
    else if (unavailable) this.logger.warn(context, 'Database unavailable');
    if (adapter.isHeadersSent(response)) {
      adapter.end(response);
      return;
    }
    if (retryAfterSeconds !== undefined)
      adapter.setHeader(response, 'Retry-After', String(retryAfterSeconds));
    // The SCIM service answers in SCIM's error shape (RFC 7644 §3.12), with its media type.
    if (isScimRequest(request)) {
      adapter.setHeader(response, 'Content-Type', `${SCIM_MEDIA_TYPE}; charset=utf-8`);
      // RFC 6750 §3: a bearer-token resource says how to authenticate.
      if (body.statusCode === 401) adapter.setHeader(response, 'WWW-Authenticate', 'Bearer');
      adapter.reply(response, toScimErrorBody(body), body.statusCode);
      return;
    }
    adapter.reply(response, body, body.statusCode);
  }
}
