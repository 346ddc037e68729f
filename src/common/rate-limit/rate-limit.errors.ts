import { HttpStatus } from '@nestjs/common';
import { AppError } from '../errors/app-error.js';

/** 429 in the API error shape; `retryAfterSeconds` becomes the `Retry-After` header. */
export class RateLimitedError extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super(
      'request.rate_limited',
      HttpStatus.TOO_MANY_REQUESTS,
      `Too many attempts, try again in ${retryAfterSeconds} s`,
    );
    this.name = 'RateLimitedError';
  }
}
