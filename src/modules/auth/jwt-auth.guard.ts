import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { IS_PUBLIC_KEY } from '../../common/decorators/public.decorator.js';
import { AuthErrors } from './auth.errors.js';

/**
 * The global default-deny guard (APP_GUARD): every route needs a valid access token unless
 * it, or its controller, is marked `@Public()`. Sets `req.user` to the AuthUser.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic === true) return true;
    return super.canActivate(context);
  }

  override handleRequest<TUser>(error: unknown, user: TUser | false | null): TUser {
    // `error` is an infrastructure failure (database down): let it become a 500, not a 401.
    if (error)
      throw error instanceof Error ? error : new Error('Authentication failed', { cause: error });
    if (!user) throw AuthErrors.unauthorized();
    return user;
  }
}
