import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { HttpRequest } from '../http/http-request.js';
import { clientIp } from '../http/client-ip.js';

/** The client address as Fastify computes it (X-Forwarded-For only when TRUST_PROXY allows). */
export const ClientIp = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): string | null =>
    clientIp(ctx.switchToHttp().getRequest<HttpRequest>()),
);
