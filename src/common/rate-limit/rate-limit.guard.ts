import {
  applyDecorators,
  CanActivate,
  ExecutionContext,
  Injectable,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import type { HttpRequest } from '../http/http-request.js';
import type { AuthUser } from '../auth/auth-user.js';
import { clientIp } from '../http/client-ip.js';
import { normalizeEmail } from '../email.js';
import { CommonErrors } from '../errors/common.errors.js';
import { ApiErrors } from '../openapi/api-errors.decorator.js';
import { ApiRateLimitHeaders } from '../openapi/api-rate-limit.js';
import { rateLimitHeaders, type RateLimitState } from './rate-limit-headers.js';
import { RateLimitedError } from './rate-limit.errors.js';
import { RateLimiterService, type RateLimitPolicy } from './rate-limiter.service.js';

const RATE_LIMIT_KEY = 'rateLimitPolicy';

@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: RateLimiterService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const policy = this.reflector.get<RateLimitPolicy | undefined>(
      RATE_LIMIT_KEY,
      context.getHandler(),
    );
    if (policy === undefined) return true;
    const request = context.switchToHttp().getRequest<HttpRequest & { user?: AuthUser }>();
    // Guards run before validation: take the email only when it is a string, normalized with
    // the services' normalizeEmail, so "A@x.com " and "a@x.com" share one counter.
    const body: unknown = request.body;
    const raw =
      typeof body === 'object' && body !== null ? (body as { email?: unknown }).email : undefined;
    const email = typeof raw === 'string' ? normalizeEmail(raw).slice(0, 320) : null;
    // The global auth guard has already run: on authenticated routes `user` is the caller.
    // A refusal is a RateLimitedError, whose `Retry-After` the exception filter sets; the
    // RateLimit headers go on the reply either way (headers set here survive the filter).
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const send = (states: readonly RateLimitState[]) => {
      for (const [name, value] of Object.entries(rateLimitHeaders(states))) {
        void reply.header(name, value);
      }
    };
    try {
      send(
        await this.limiter.consume(policy, {
          ip: clientIp(request),
          email: email || null,
          userId: request.user?.id ?? null,
        }),
      );
    } catch (error) {
      if (error instanceof RateLimitedError) send(error.limits);
      throw error;
    }
    return true;
  }
}

/**
 * Throttles a route under `policy`, per client IP, per `body.email` when the body has one and
 * per signed-in user on authenticated routes; answers 429 with `Retry-After`, and every answer
 * carries the RateLimit-Policy and RateLimit headers; all documented in Swagger.
 */
export function RateLimit(policy: RateLimitPolicy): MethodDecorator {
  return applyDecorators(
    SetMetadata(RATE_LIMIT_KEY, policy),
    UseGuards(RateLimitGuard),
    ApiErrors(CommonErrors.rateLimited),
    ApiRateLimitHeaders(policy),
  );
}
