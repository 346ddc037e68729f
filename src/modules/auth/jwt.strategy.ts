import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { HttpRequest } from '../../common/http/http-request.js';
import { createSecretKey } from 'node:crypto';
import passport from 'passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { clientIp } from '../../common/http/client-ip.js';
import { parseId } from '../../common/ids.js';
import { AppConfig } from '../../config/app-config.js';
import { SessionsRepository } from './sessions.repository.js';
import { isUuid } from './tokens.js';

export const JWT_STRATEGY = 'jwt';

/** What `validate` hands the auth guard: the principal. */
export interface Authenticated {
  user: AuthUser;
}

export interface AccessTokenClaims {
  userId: number;
  sessionId: string;
}

/**
 * How far in the future a token's `iat` may lie: another instance's clock may run a little
 * ahead of ours. Anything later was not issued by a server of ours.
 */
export const JWT_CLOCK_SKEW_SECONDS = 30;

/**
 * How stale sessions.last_used_at may be: the guard reads it with the session (no extra
 * query) and updates it only when it is at least this old, so a busy session costs one
 * UPDATE a minute instead of one per request. GET /users/me/sessions is accurate to a minute.
 */
export const LAST_USED_RESOLUTION_MS = 60_000;

const isNumericDate = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);

/**
 * `sub` (a positive int4 user id as a string) and `sid` (a uuid) of a verified payload, which
 * must also carry `iat` (not after `nowSeconds` + JWT_CLOCK_SKEW_SECONDS) and `exp`: a token
 * without them would never expire by itself, only with its session.
 */
export function accessTokenClaims(
  payload: unknown,
  nowSeconds: number,
): AccessTokenClaims | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const { sub, sid, iat, exp } = payload as Record<string, unknown>;
  if (!isNumericDate(iat) || !isNumericDate(exp)) return undefined;
  if (iat > nowSeconds + JWT_CLOCK_SKEW_SECONDS || exp <= iat) return undefined;
  const userId = typeof sub === 'string' ? parseId(sub) : undefined;
  if (userId === undefined || !isUuid(sid)) return undefined;
  return { userId, sessionId: sid.toLowerCase() };
}

/**
 * passport-jwt verifies the bearer token (HS256 only, so `alg: none` and algorithm confusion
 * are refused; signature, `exp`, `iss`, `aud`, and an age since `iat` of at most
 * JWT_ACCESS_TTL), `accessTokenClaims` requires `exp`, `iat` (not in the future) and the ids,
 * then `validate` re-reads the session and its user from this app's database in one indexed
 * query: revocation, session expiry, deletion and role changes apply to the very next
 * request, whatever the token's `exp` says, and no claim beyond `sub`/`sid` is trusted.
 * This is the only place an access token is verified (JwtModule only signs them).
 *
 * The strategy registers in a passport instance of its own (@nestjs/passport's
 * `getPassportInstance` hook) instead of passport's process-wide registry: with two app
 * instances in one process (tests, a worker beside the API) the last one constructed would
 * otherwise verify every app's tokens with its key and its pool (auth-isolation.e2e-spec).
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
      // A token older than the access lifetime is refused even if its exp says otherwise
      // (jsonwebtoken then also requires iat).
      jsonWebTokenOptions: { maxAge: config.jwt.accessTtlSeconds },
      passReqToCallback: true,
    });
  }

  /** Where PassportStrategy's constructor registers the strategy, and the guard runs it. */
  getPassportInstance(): passport.Authenticator {
    // Lazily: PassportStrategy's constructor calls this before the fields are initialised.
    this.ownPassport ??= new passport.Authenticator();
    return this.ownPassport;
  }

  /**
   * passport-jwt's callback, with the payload it has just verified: the principal, re-read
   * from the database (see the class comment).
   */
  async validate(request: HttpRequest, payload: unknown): Promise<Authenticated | false> {
    const now = new Date();
    const claims = accessTokenClaims(payload, Math.floor(now.getTime() / 1000));
    if (claims === undefined) return false;
    const principal = await this.sessions.findPrincipal(claims.sessionId, claims.userId, now);
    if (!principal) return false;
    const { lastUsedAt, ...user } = principal;
    // At most one write per session per LAST_USED_RESOLUTION_MS, not one per request.
    if (now.getTime() - lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
      await this.sessions.touch(
        user.sessionId,
        now,
        new Date(now.getTime() - LAST_USED_RESOLUTION_MS),
      );
    }
    return { user: { ...user, ip: clientIp(request) } };
  }
}
