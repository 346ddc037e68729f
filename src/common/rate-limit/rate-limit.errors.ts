import { HttpStatus } from '@nestjs/common';
import { AppError } from '../errors/app-error.js';
import { CommonErrors } from '../errors/common.errors.js';
import type { RateLimitState } from './rate-limit-headers.js';

/**
 * 429 in the API error shape; `retryAfterSeconds` becomes the `Retry-After` header, `limits`
 * (the counters of a `@RateLimit` route) its RateLimit headers.
 */
export class RateLimitedError extends AppError {
  constructor(
    readonly retryAfterSeconds: number,
    readonly limits: readonly RateLimitState[] = [],
  ) {
    super(
      CommonErrors.rateLimited.code,
      HttpStatus.TOO_MANY_REQUESTS,
      `Too many attempts, try again in ${retryAfterSeconds} s`,
    );
    this.name = 'RateLimitedError';
  }
}
