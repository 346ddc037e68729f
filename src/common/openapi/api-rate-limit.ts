import { ApiExtension } from '@nestjs/swagger';

/**
 * Marks an operation as throttled by a `@RateLimit(policy)` guard; the document finalizer turns
 * it into the RateLimit-Policy and RateLimit headers of the operation's successes and its 429,
 * then removes it.
 */
export const RATE_LIMIT_EXTENSION = 'x-rate-limit-policy';

export function ApiRateLimitHeaders(policy: string): MethodDecorator {
  return ApiExtension(RATE_LIMIT_EXTENSION, policy);
}
