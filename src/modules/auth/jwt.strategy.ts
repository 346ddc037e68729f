import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { createSecretKey } from 'node:crypto';
import passport from 'passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { clientIp } from '../../common/decorators/client-ip.decorator.js';
import { parseId } from '../../common/http/parse-id.pipe.js';
import { AppConfig } from '../../config/app-config.js';
import { SessionsRepository } from './sessions.repository.js';
import { isUuid } from './tokens.js';

export const JWT_STRATEGY = 'jwt';

export interface AccessTokenClaims {
  userId: number;
  sessionId: string;
}

/** `sub` (a positive int4 user id as a string) and `sid` (a uuid) of a verified payload. */
export function accessTokenClaims(payload: unknown): AccessTokenClaims | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const { sub, sid } = payload as { sub?: unknown; sid?: unknown };
  const userId = typeof sub === 'string' ? parseId(sub) : undefined;
  if (userId === undefined || !isUuid(sid)) return undefined;
  return { userId, sessionId: sid.toLowerCase() };
}

/**
 * passport-jwt verifies the bearer token (HS256 only, so `alg: none` and algorithm confusion
 * are refused; signature, `exp`, `iss`, `aud`), then `validate` re-reads the session and its
 * user from this app's database in one indexed query: revocation, deletion and role changes
 * apply to the very next request, and no claim beyond `sub`/`sid` is trusted.
 *
 * The strategy registers in a passport instance of its own instead of passport's process-wide
 * registry: with two app instances in one process (tests, a worker beside the API) the last
 * one constructed would otherwise verify every app's tokens with its key and its pool.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  private ownPassport?: passport.Authenticator;

  constructor(
    config: AppConfig,
    private readonly sessions: SessionsRepository,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // A KeyObject (jsonwebtoken accepts one; passport-jwt's types only list string | Buffer),
      // so jsonwebtoken does not first try to parse the secret as a PEM public key per token.
      secretOrKey: createSecretKey(Buffer.from(config.jwt.secret)) as unknown as Buffer,
      algorithms: ['HS256'],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      ignoreExpiration: false,
      passReqToCallback: true,
    });
  }

  /** Called by PassportStrategy's constructor to register the strategy (replaces its global). */
  getPassportInstance(): passport.Authenticator {
    this.ownPassport ??= new passport.Authenticator();
    return this.ownPassport;
  }

  async validate(request: Request, payload: unknown): Promise<AuthUser | false> {
    const claims = accessTokenClaims(payload);
    if (claims === undefined) return false;
    const principal = await this.sessions.findPrincipal(
      claims.sessionId,
      claims.userId,
      new Date(),
    );
    return principal ? { ...principal, ip: clientIp(request) } : false;
  }
}
