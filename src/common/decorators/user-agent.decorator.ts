import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { HttpRequest } from '../http/http-request.js';

/**
 * The request's User-Agent, if any. A custom decorator rather than `@Headers('user-agent')`,
 * which Swagger would document as a required header that generated clients must then send.
 */
export const UserAgent = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): string | undefined =>
    ctx.switchToHttp().getRequest<HttpRequest>().headers['user-agent'],
);
