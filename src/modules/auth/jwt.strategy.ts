import { Injectable } from '@nestjs/common';
import { createSecretKey } from 'node:crypto';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { clientIp } from '../../common/decorators/client-ip.decorator.js';
import { AppConfig } from '../../config/app-config.js';
import { SessionsRepository } from './sessions.repository.js';
import { isUuid } from './tokens.js';

export interface AccessTokenPayload {
  sub?: unknown;
  sid?: unknown;
}

/**
 * passport-jwt verifies the signature with HS256 only (so `alg: none` and RS/HS confusion
 * are rejected), `exp`, `iss` and `aud`; then the user and session are re-read from the
 * database, so revocation, deletion and role changes apply to the very next request.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    config: AppConfig,
    private readonly sessions: SessionsRepository,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // A KeyObject: given a string, jsonwebtoken first tries to parse it as a PEM public key
      // on every verify (~0.3 ms of CPU per request, measured in bench/RESULTS.md). The
      // @types/passport-jwt signature lists only string | Buffer; passport-jwt passes it through.
      secretOrKey: createSecretKey(Buffer.from(config.jwt.secret)) as unknown as Buffer,
      algorithms: ['HS256'],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      ignoreExpiration: false,
      passReqToCallback: true,
    });
  }

  async validate(request: Request, payload: AccessTokenPayload): Promise<AuthUser | false> {
    const { sub, sid } = payload;
    if (typeof sub !== 'string' || !/^[1-9]\d{0,9}$/.test(sub) || Number(sub) > 2_147_483_647) {
      return false;
    }
    if (!isUuid(sid)) return false;
    const principal = await this.sessions.findPrincipal(sid.toLowerCase(), Number(sub), new Date());
    if (!principal) return false;
    return { ...principal, ip: clientIp(request) };
  }
}
