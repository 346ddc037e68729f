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
import { VerifiedTokens } from './verified-tokens.js';

export const JWT_STRATEGY = 'jwt';

/** `Authorization: Bearer <token>`, as passport-jwt extracts it (null without one). */
const bearerFromRequest = ExtractJwt.fromAuthHeaderAsBearerToken();

type PassportRequest = Parameters<Strategy['authenticate']>[0];

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
 *
 * A token jsonwebtoken has verified once is remembered (`VerifiedTokens`): the client's next
 * requests with it skip the signature check and the parsing, and passport's per-request
 * middleware (the guard calls `authenticateRemembered` first), not the time checks nor the
 * database read.
 *
 * The strategy registers in a passport instance of its own instead of passport's process-wide
 * registry: with two app instances in one process (tests, a worker beside the API) the last
 * one constructed would otherwise verify every app's tokens with its key and its pool.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  private ownPassport?: passport.Authenticator;
  /** The token passport-jwt is verifying for a request (to remember it once verified). */
  private readonly verifying = new WeakMap<HttpRequest, string>();
  private readonly verified: VerifiedTokens;

  constructor(
    config: AppConfig,
    private readonly sessions: SessionsRepository,
  ) {
    super({
      jwtFromRequest: bearerFromRequest,
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
    this.verified = new VerifiedTokens(config.jwt.accessTtlSeconds);
  }

  /**
   * The guard's fast path: when the request's bearer `token` (the guard's strict parse of the
   * header, which yields the token passport-jwt would extract whenever it matches) is one
   * jsonwebtoken verified before and its time checks still pass, the principal straight from
   * the database, without passport's per-request middleware; otherwise undefined, and the guard
   * goes through passport.
   */
  authenticateRemembered(
    request: HttpRequest,
    token: string | undefined,
  ): Promise<Authenticated | false> | undefined {
    const payload =
      token === undefined ? undefined : this.verified.get(token, Math.floor(Date.now() / 1000));
    return payload === undefined ? undefined : this.principal(request, payload);
  }

  /**
   * Called by passport on this request's copy of the strategy: notes the token, so that
   * `validate` remembers it once passport-jwt has verified it.
   */
  override authenticate(req: PassportRequest, options?: unknown): void {
    const token = bearerFromRequest(req);
    if (token !== null) this.verifying.set(req as unknown as HttpRequest, token);
    super.authenticate(req, options);
  }

  /** Called by PassportStrategy's constructor to register the strategy (replaces its global). */
  getPassportInstance(): passport.Authenticator {
    this.ownPassport ??= new passport.Authenticator();
    return this.ownPassport;
  }

  /** passport-jwt's callback, with the payload it has just verified. */
  async validate(request: HttpRequest, payload: unknown): Promise<Authenticated | false> {
    const token = this.verifying.get(request);
    if (token !== undefined) this.verifying.delete(request);
    return this.principal(request, payload, token);
  }

  /**
   * The claims' principal, re-read from the database (see the class comment). `verifiedToken`,
   * the token passport-jwt has just verified, is remembered once its claims are ours.
   */
  private async principal(
    request: HttpRequest,
    payload: unknown,
    verifiedToken?: string,
  ): Promise<Authenticated | false> {
    const now = new Date();
    const claims = accessTokenClaims(payload, Math.floor(now.getTime() / 1000));
    if (claims === undefined) return false;
    if (verifiedToken !== undefined) this.verified.add(verifiedToken, payload as object);
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
