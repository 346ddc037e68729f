import { Module } from '@nestjs/common';
import { RateLimitGuard } from './rate-limit.guard.js';
import { LoginRateLimiter, RateLimiterService } from './rate-limiter.service.js';

/** Import where a route uses `@RateLimit(...)` or a login form calls `LoginRateLimiter`. */
@Module({
  providers: [RateLimiterService, LoginRateLimiter, RateLimitGuard],
  exports: [RateLimiterService, LoginRateLimiter, RateLimitGuard],
})
export class RateLimitModule {}
