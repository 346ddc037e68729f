import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

/** The client address as Express computes it (X-Forwarded-For only when TRUST_PROXY allows). */
export const ClientIp = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): string | null =>
    clientIp(ctx.switchToHttp().getRequest<Request>()),
);

export function clientIp(request: Request): string | null {
  const ip = request.ip ?? request.socket.remoteAddress ?? null;
  // IPv4-mapped IPv6 (::ffff:1.2.3.4) is stored as plain IPv4; activity_logs.ip_address is varchar(45).
  return ip?.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1').slice(0, 45) ?? null;
}
