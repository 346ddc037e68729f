import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { HttpRequest } from '../http/http-request.js';
import type { Actor, UserActor } from '../auth/actor.js';
import { UnauthorizedErrors } from '../auth/unauthorized.js';

/** The request's caller, as the global auth guard set it on `request.actor`. */
export type RequestWithActor = HttpRequest & { actor?: Actor };

/**
 * The caller set by the global auth guard: a user (access token) or, on routes that accept
 * them, a team API key. Only valid on routes that are not @Public().
 */
export const CurrentActor = createParamDecorator((_data: unknown, ctx: ExecutionContext): Actor => {
  const request = ctx.switchToHttp().getRequest<RequestWithActor>();
  if (!request.actor)
    throw new Error('CurrentActor used on a route without an authenticated caller');
  return request.actor;
});

/**
 * The caller of a route only a signed-in user may call (`/users/me`, `/invitations`, team
 * creation, ...): its user Actor. Any other kind of caller (a team API key) gets the same 401
 * as a missing token (API.md: keys are refused outside their team's routes).
 */
export const CurrentUserActor = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): UserActor => {
    const request = ctx.switchToHttp().getRequest<RequestWithActor>();
    if (!request.actor)
      throw new Error('CurrentUserActor used on a route without an authenticated caller');
    if (request.actor.kind !== 'user') {
      throw UnauthorizedErrors.unauthorized();
    }
    return request.actor;
  },
);
