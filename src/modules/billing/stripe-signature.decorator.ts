import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { HttpRequest } from '../../common/http/http-request.js';

/**
 * The Stripe-Signature header. Not `@Headers('stripe-signature')`: Swagger would document it
 * a second time (lower-cased) beside the webhook's `@ApiHeader('Stripe-Signature')`.
 */
export const StripeSignature = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): string | undefined => {
    const value = ctx.switchToHttp().getRequest<HttpRequest>().headers['stripe-signature'];
    return Array.isArray(value) ? value.join(',') : value;
  },
);
