import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { AppError, type ErrorDetail } from './app-error.js';
import { CommonErrors } from './common.errors.js';
import type { ErrorResponseDto } from './error-response.dto.js';
import { RateLimitedError } from '../rate-limit/rate-limit.errors.js';
import { isDatabaseUnavailable } from './pg-errors.js';

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

/** Errors raised by Express' body parsers carry `type` and `status`. */
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

export interface RenderedError {
  body: ErrorResponseDto;
  /** A bug or an unknown failure: logged in full, rendered as a generic 500. */
  unexpected: boolean;
  /** The database (or another backend) is unreachable or too slow: worth a log line. */
  unavailable: boolean;
  /** Value of the `Retry-After` header, when the client should retry. */
  retryAfterSeconds?: number;
}

/** Maps any thrown value to the API's error body; unknown errors become a logged, generic 500. */
export function toErrorResponse(error: unknown): RenderedError {
  let appError: AppError | undefined;
  // Nest's Express adapter wraps body-parser failures in an HttpException with the original as cause.
  if (error instanceof HttpException && isBodyParserError(error.cause)) error = error.cause;
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
      body: bodyOf(CommonErrors.serviceUnavailable()),
      unexpected: false,
      unavailable: true,
      retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS,
    };
  }
  const unexpected = appError === undefined;
  const rendered: RenderedError = {
    body: bodyOf(appError ?? CommonErrors.internal()),
    unexpected,
    unavailable: false,
  };
  // A limit hit inside a service (not by the route guard, which sets the header itself).
  if (appError instanceof RateLimitedError) rendered.retryAfterSeconds = appError.retryAfterSeconds;
  return rendered;
}

function bodyOf(error: AppError): ErrorResponseDto {
  const body: ErrorResponseDto = {
    statusCode: error.status,
    error: STATUS_CODES[error.status] ?? 'Error',
    code: error.code,
    message: error.message,
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
    const request = ctx.getRequest<IncomingMessage & { id?: unknown; originalUrl?: string }>();
    const { body, unexpected, unavailable, retryAfterSeconds } = toErrorResponse(exception);
    // The logger's error serializer keeps a failed query's SQL and drops its parameters.
    const context = {
      err: exception,
      requestId: request.id,
      method: request.method,
      url: request.originalUrl ?? request.url,
    };
    if (unexpected) this.logger.error(context, 'Unhandled error');
    else if (unavailable) this.logger.warn(context, 'Database unavailable');
    if (adapter.isHeadersSent(response)) {
      adapter.end(response);
      return;
    }
    if (retryAfterSeconds !== undefined)
      adapter.setHeader(response, 'Retry-After', String(retryAfterSeconds));
    adapter.reply(response, body, body.statusCode);
  }
}
