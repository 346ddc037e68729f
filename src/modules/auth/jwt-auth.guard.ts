import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import type { Request } from 'express';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { clientIp } from '../../common/decorators/client-ip.decorator.js';
import { IS_PUBLIC_KEY } from '../../common/decorators/public.decorator.js';
import { AuthErrors } from './auth.errors.js';
import { SessionsRepository } from './sessions.repository.js';
import { isUuid } from './tokens.js';

export interface AccessTokenClaims {
  userId: number;
  sessionId: string;
}

/** `Authorization: Bearer <token>` (scheme case-insensitive), else undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header ?? '');
  return match?.[1];
}

/** `sub` (a positive int4 user id as a string) and `sid` (a uuid) of a verified payload. */
export function accessTokenClaims(payload: unknown): AccessTokenClaims | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const { sub, sid } = payload as { sub?: unknown; sid?: unknown };
  if (typeof sub !== 'string' || !/^[1-9]\d{0,9}$/.test(sub) || Number(sub) > 2_147_483_647) {
    return undefined;
  }
  if (!isUuid(sid)) return undefined;
  return { userId: Number(sub), sessionId: sid.toLowerCase() };
}

/**
 * The global default-deny guard (APP_GUARD): every route needs a valid access token unless
 * it, or its controller, is marked `@Public()`. Sets `req.user` to the AuthUser.
 *
 * The token is verified by this app's JwtService, with JwtModule's verifyOptions (HS256 only,
 * so `alg: none` and RS/HS confusion are rejected; `exp`, `iss`, `aud`), the same module
 * config that signs them. Then the user and session are re-read through this app's database,
 * so revocation, deletion and role changes apply to the very next request.
 *
 * Deliberately not a passport strategy: passport keeps strategies in one process-wide
 * registry (`PassportStrategy` registers itself there by name when constructed), so with two
 * app instances in a process (tests, a worker beside the API) the last one constructed
 * verified every app's tokens with its key and its pool, and closing it broke the others.
 * Everything here is injected per app instance.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly jwt: JwtService,
    private readonly sessions: SessionsRepository,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic === true) return true;
    const request = context.switchToHttp().getRequest<Request & { user?: AuthUser }>();
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) throw AuthErrors.unauthorized();
    let payload: unknown;
    try {
      payload = await this.jwt.verifyAsync<object>(token);
    } catch {
      // jsonwebtoken's errors: bad signature or algorithm, expired, wrong iss/aud, malformed.
      throw AuthErrors.unauthorized();
    }
    const claims = accessTokenClaims(payload);
    if (claims === undefined) throw AuthErrors.unauthorized();
    // A database failure here propagates as a 500, not a 401.
    const principal = await this.sessions.findPrincipal(
      claims.sessionId,
      claims.userId,
      new Date(),
    );
    if (!principal) throw AuthErrors.unauthorized();
    request.user = { ...principal, ip: clientIp(request) };
    return true;
  }
}
