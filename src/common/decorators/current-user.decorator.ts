import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { HttpRequest } from '../http/http-request.js';
import type { AuthUser } from '../auth/auth-user.js';

/** The principal set by the global auth guard. Only valid on routes that are not @Public(). */
export const CurrentUser = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): AuthUser => {
    const request = ctx.switchToHttp().getRequest<HttpRequest & { user?: AuthUser }>();
    if (!request.user) throw new Error('CurrentUser used on a route without an authenticated user');
    return request.user;
  },
);
