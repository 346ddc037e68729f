import { HttpStatus } from '@nestjs/common';
import { AppError } from '../errors/app-error.js';
import { CommonErrors } from '../errors/common.errors.js';

/** 429 in the API error shape; `retryAfterSeconds` becomes the `Retry-After` header. */
export class RateLimitedError extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super(
      CommonErrors.rateLimited.code,
      HttpStatus.TOO_MANY_REQUESTS,
      `Too many attempts, try again in ${retryAfterSeconds} s`,
    );
    this.name = 'RateLimitedError';
  }
}
