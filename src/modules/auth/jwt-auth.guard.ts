import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import type { HttpRequest } from '../../common/http/http-request.js';
import { userActor } from '../../common/auth/actor.js';
import type { AuthUser } from '../../common/auth/auth-user.js';
import type { RequestWithActor } from '../../common/decorators/current-actor.decorator.js';
import { clientIp } from '../../common/http/client-ip.js';
import { ALLOW_UNVERIFIED_EMAIL_KEY } from '../../common/decorators/allow-unverified-email.decorator.js';
import { IS_PUBLIC_KEY } from '../../common/decorators/public.decorator.js';
import { AppConfig } from '../../config/app-config.js';
import { isApiKeyToken } from '../api-keys/api-key-token.js';
import { ApiKeysService } from '../api-keys/api-keys.service.js';
import { TEAM_ROLE_KEY, type TeamRoleRequirement } from '../access/team-role.guard.js';
import { UserErrors } from '../users/users.errors.js';
import { AuthErrors } from './auth.errors.js';
import { JWT_STRATEGY, JwtStrategy, type Authenticated } from './jwt.strategy.js';

/**
 * The global default-deny guard (APP_GUARD): every route needs a valid access token unless
 * it, or its controller, is marked `@Public()`. Authenticates with this app's JwtStrategy
 * (passport-jwt) and sets `req.user` to the AuthUser and `req.actor` to its user actor.
 *
 * A team API key (`Bearer nsk_…`) is never tried as a JWT: it is accepted only on routes that
 * name a key scope (`@TeamRole(role, { apiKey })`), anywhere else 401 before any lookup; a
 * known, unexpired, unrevoked key sets `req.actor` to its ApiKeyActor (no `req.user`), and
 * the TeamRoleGuard then checks its team and scope. Keys are rate limited per key (429).
 *
 * With EMAIL_VERIFICATION=required it also denies by default to users whose email is not
 * verified (403 `email.unverified`); the few routes such a user needs opt in with
 * `@AllowUnverifiedEmail()`. Deciding it here, once, means a new route is safe without
 * anyone remembering to add a check.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly strategy: JwtStrategy,
    private readonly config: AppConfig,
    private readonly apiKeys: ApiKeysService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic === true) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<HttpRequest & RequestWithActor & { user?: AuthUser }>();
    const token = bearerToken(request);
    const teamRole = this.reflector.getAllAndOverride<TeamRoleRequirement | undefined>(
      TEAM_ROLE_KEY,
      [context.getHandler(), context.getClass()],
    );
    if (token !== undefined && isApiKeyToken(token)) {
      await this.authenticateApiKey(teamRole, request, token);
      return true;
    }
    const authenticated = await this.authenticate(request, http.getResponse<FastifyReply>());
    // Missing, malformed, expired, tampered or revoked: one answer.
    if (!authenticated) throw AuthErrors.unauthorized();
    const { user } = authenticated;
    request.user = user;
    // The same principal as the caller every service takes first (see common/auth/actor.ts).
    request.actor = userActor(user);
    if (
      this.config.emailVerification === 'required' &&
      !user.emailVerified &&
      this.reflector.getAllAndOverride<boolean | undefined>(ALLOW_UNVERIFIED_EMAIL_KEY, [
        context.getHandler(),
        context.getClass(),
      ]) !== true
    ) {
      throw UserErrors.emailUnverified();
    }
    return true;
  }

  private async authenticateApiKey(
    teamRole: TeamRoleRequirement | undefined,
    request: HttpRequest & RequestWithActor,
    token: string,
  ): Promise<void> {
    const scope = teamRole?.apiKey;
    // A route that names no scope never accepts keys: the same 401 as a bad token.
    if (scope === undefined) throw AuthErrors.unauthorized();
    // Too many attempts with this key: a RateLimitedError, whose `Retry-After` the exception
    // filter sets.
    const actor = await this.apiKeys.authenticate(token, clientIp(request));
    if (!actor) throw AuthErrors.unauthorized();
    request.actor = actor;
  }

  /**
   * passport with this app's JwtStrategy (registered in the strategy's own passport instance,
   * see JwtStrategy), as @nestjs/passport's AuthGuard runs it; a database failure rejects (500).
   */
  private authenticate(
    request: HttpRequest,
    response: FastifyReply,
  ): Promise<Authenticated | false> {
    return new Promise((resolve, reject) => {
      const middleware = this.strategy
        .getPassportInstance()
        .authenticate(
          JWT_STRATEGY,
          { session: false },
          (error: unknown, user: Authenticated | false) =>
            error
              ? reject(
                  error instanceof Error ? error : new Error('passport error', { cause: error }),
                )
              : resolve(user),
        ) as (req: HttpRequest, res: FastifyReply, next: (error?: unknown) => void) => void;
      middleware(request, response, (error?: unknown) =>
        reject(error instanceof Error ? error : new Error('passport called next without a result')),
      );
    });
  }
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive). */
function bearerToken(request: HttpRequest): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}
