import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Actor } from '../auth/actor.js';

/** The request's caller, as the global auth guard set it on `request.actor`. */
export type RequestWithActor = Request & { actor?: Actor };

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
