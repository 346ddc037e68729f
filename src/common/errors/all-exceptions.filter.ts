import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { AppError, type ErrorDetail } from './app-error.js';
import { CommonErrors } from './common.errors.js';
import type { ErrorResponseDto } from './error-response.dto.js';

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

/** Maps any thrown value to the API's error body; unknown errors become a logged, generic 500. */
export function toErrorResponse(error: unknown): { body: ErrorResponseDto; unexpected: boolean } {
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
  const unexpected = appError === undefined;
  const final = appError ?? CommonErrors.internal();
  const body: ErrorResponseDto = {
    statusCode: final.status,
    error: STATUS_CODES[final.status] ?? 'Error',
    code: final.code,
    message: final.message,
  };
  if (final.details !== undefined && final.details.length > 0) body.details = final.details;
  return { body, unexpected };
}

@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const response = ctx.getResponse<Response>();
    const request = ctx.getRequest<Request & { id?: unknown }>();
    const { body, unexpected } = toErrorResponse(exception);
    if (unexpected) {
      this.logger.error(
        { err: exception, requestId: request.id, method: request.method, url: request.originalUrl },
        'Unhandled error',
      );
    }
    if (response.headersSent) {
      response.end();
      return;
    }
    response.status(body.statusCode).json(body);
  }
}
