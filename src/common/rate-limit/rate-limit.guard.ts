import {
  applyDecorators,
  CanActivate,
  ExecutionContext,
  HttpStatus,
  Injectable,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiResponse } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { AuthUser } from '../auth/auth-user.js';
import { clientIp } from '../decorators/client-ip.decorator.js';
import { normalizeEmail } from '../http/email.js';
import { ErrorResponseDto } from '../errors/error-response.dto.js';
import { RateLimitedError } from './rate-limit.errors.js';
import { RateLimiterService, type RateLimitPolicy } from './rate-limiter.service.js';

const RATE_LIMIT_KEY = 'rateLimitPolicy';

const PER_IP_OR_EMAIL =
  '`request.rate_limited`: too many attempts from this IP or for this email (RATE_LIMIT_PER_IP / RATE_LIMIT_PER_EMAIL per RATE_LIMIT_WINDOW seconds)';

const RATE_LIMIT_DESCRIPTIONS: Record<RateLimitPolicy, string> = {
  'sign-in': PER_IP_OR_EMAIL,
  'sign-up': PER_IP_OR_EMAIL,
  'password-reset': PER_IP_OR_EMAIL,
  'password-confirm':
    '`request.rate_limited`: too many password attempts for this account (RATE_LIMIT_PER_EMAIL per RATE_LIMIT_WINDOW seconds, PUT /users/me/password and DELETE /users/me counted together) or from this IP (RATE_LIMIT_PER_IP)',
  'email-verification':
    '`request.rate_limited`: too many verification mails for this account or to this address (RATE_LIMIT_PER_EMAIL per RATE_LIMIT_WINDOW seconds, POST /auth/verify-email/resend and PATCH /users/me counted together) or from this IP (RATE_LIMIT_PER_IP)',
  'checkout-success':
    '`request.rate_limited`: too many requests from this IP (RATE_LIMIT_PER_IP per RATE_LIMIT_WINDOW seconds); each one calls Stripe',
};

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
    const request = context.switchToHttp().getRequest<Request & { user?: AuthUser }>();
    // Guards run before validation: take the email only when it is a string, normalized with
    // the services' normalizeEmail, so "A@x.com " and "a@x.com" share one counter.
    const body: unknown = request.body;
    const raw =
      typeof body === 'object' && body !== null ? (body as { email?: unknown }).email : undefined;
    const email = typeof raw === 'string' ? normalizeEmail(raw).slice(0, 320) : null;
    try {
      // The global auth guard has already run: on authenticated routes `user` is the caller.
      await this.limiter.consume(policy, {
        ip: clientIp(request),
        email: email || null,
        userId: request.user?.id ?? null,
      });
    } catch (error) {
      if (error instanceof RateLimitedError) {
        context
          .switchToHttp()
          .getResponse<Response>()
          .setHeader('Retry-After', String(error.retryAfterSeconds));
      }
      throw error;
    }
    return true;
  }
}

/**
 * Throttles a route under `policy`, per client IP, per `body.email` when the body has one and
 * per signed-in user on authenticated routes; answers 429 with `Retry-After`, documented in
 * Swagger.
 */
export function RateLimit(policy: RateLimitPolicy): MethodDecorator {
  return applyDecorators(
    SetMetadata(RATE_LIMIT_KEY, policy),
    UseGuards(RateLimitGuard),
    ApiResponse({
      status: HttpStatus.TOO_MANY_REQUESTS,
      type: ErrorResponseDto,
      description: RATE_LIMIT_DESCRIPTIONS[policy],
      headers: {
        'Retry-After': {
          description: 'Seconds until the next attempt is allowed',
          schema: { type: 'integer' },
        },
      },
    }),
  );
}
