import { Injectable, Logger } from '@nestjs/common';
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type * as openid from 'openid-client';
import { PasswordHasher } from '../../common/crypto/password-hasher.js';
import { parseEmail } from '../../common/email.js';
import { isUniqueViolation } from '../../common/errors/pg-errors.js';
import { DEFAULT_LOCALE } from '../../common/i18n/locales.js';
import { AppConfig } from '../../config/app-config.js';
import type { OidcProviderConfig } from '../../config/oidc-config.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { ActivityType, type User } from '../../database/schema.js';
import { AuditService } from '../audit/audit.service.js';
import { UserDto } from '../users/users.dto.js';
import { TeamsService } from '../teams/teams.service.js';
import { UsersService } from '../users/users.service.js';
import { AuthService, defaultTeamName } from './auth.service.js';
import { EmailVerificationService } from './email-verification.service.js';
import { OidcClients } from './oidc.client.js';
import type { OidcProviderDto } from './oidc.dto.js';
import { OIDC_CALLBACK_ERRORS, OidcErrors, type OidcCallbackError } from './oidc.errors.js';
import { OidcRepository } from './oidc.repository.js';
import { SessionsService, type ClientMeta } from './sessions.service.js';
import { randomSecret, sha256 } from './tokens.js';

/** How long a started sign-in waits for the provider's redirect. */
export const OIDC_FLOW_TTL_MS = 10 * 60_000;
/** How long the frontend has to redeem the callback's one-time code. */
export const OIDC_EXCHANGE_CODE_TTL_MS = 60_000;

/** What the browser keeps between authorize and callback: `<flowId>.<secret>`. */
export interface FlowCookie {
  value: string;
  maxAgeMs: number;
}

/** The identity a provider vouched for, from the validated ID token (and userinfo). */
interface ProviderProfile {
  issuer: string;
  subject: string;
  /** Normalised (parseEmail); undefined when the provider gave none or an unusable one. */
  email: string | undefined;
  emailVerified: boolean;
  name: string | null;
}

type Resolved = { user: User; signedUp: boolean } | { error: OidcCallbackError };

class CallbackFailure extends Error {
  constructor(
    readonly code: OidcCallbackError,
    cause?: unknown,
  ) {
    super(code, { cause });
  }
}

const FLOW_COOKIE = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/;

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/**
 * OpenID Connect sign-in (API.md "OpenID Connect sign-in"): authorization-code flow with
 * PKCE, state and nonce through openid-client; provider identities (issuer + sub) linked to
 * users; tokens reach the frontend only through a one-time code and POST /auth/oidc/exchange.
 */
@Injectable()
export class OidcService {
  private readonly logger = new Logger(OidcService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly clients: OidcClients,
    private readonly oidc: OidcRepository,
    private readonly txHost: TransactionHost,
    private readonly hasher: PasswordHasher,
    private readonly users: UsersService,
    private readonly teams: TeamsService,
    private readonly audit: AuditService,
    private readonly sessions: SessionsService,
    private readonly auth: AuthService,
    private readonly verification: EmailVerificationService,
  ) {}

  /** The flow cookie is Secure when browsers reach the API over HTTPS (API_URL). */
  get secureCookies(): boolean {
    return this.config.apiUrl.startsWith('https:');
  }

  listProviders(): OidcProviderDto[] {
    return this.clients.providers.map((p) => ({ id: p.id, name: p.name }));
  }

  /**
   * Starts a sign-in: stores state, nonce and PKCE verifier under a new flow bound to a
   * browser secret, and answers the provider's authorization URL plus the cookie carrying
   * that secret. A provider whose discovery fails sends the browser back to the frontend.
   */
  async authorize(providerId: string): Promise<{ url: string; cookie?: FlowCookie }> {
    const provider = this.provider(providerId);
    let configuration: openid.Configuration;
    try {
      configuration = await this.clients.configuration(provider);
    } catch (error) {
      this.logger.warn({ err: error, provider: provider.id }, 'OpenID Connect discovery failed');
      return { url: this.frontend({ error: OIDC_CALLBACK_ERRORS.providerUnavailable }) };
    }
    const client = await this.clients.library();
    const now = new Date();
    const id = randomUUID();
    const secret = randomSecret();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const codeVerifier = client.randomPKCECodeVerifier();
    await this.oidc.deleteExpired(now);
    await this.oidc.insertFlow(
      {
        id,
        provider: provider.id,
        browserHash: sha256(secret),
        state,
        nonce,
        codeVerifier,
        expiresAt: new Date(now.getTime() + OIDC_FLOW_TTL_MS),
      },
      now,
    );
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.clients.redirectUri(provider),
      scope: 'openid email profile',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, cookie: { value: `${id}.${secret}`, maxAgeMs: OIDC_FLOW_TTL_MS } };
  }

  /**
   * The provider's redirect. Consumes the flow of this browser (cookie) and checks `state`,
   * lets openid-client redeem the code (PKCE) and validate the ID token (JWKS signature, iss,
   * aud, exp, nonce), then signs in, links or signs up and answers the frontend URL carrying
   * a one-time code, or an `error`.
   */
  async callback(
    providerId: string,
    query: URLSearchParams,
    flowCookie: string | undefined,
    meta: ClientMeta,
  ): Promise<string> {
    const provider = this.provider(providerId);
    try {
      const profile = await this.redeem(provider, query, flowCookie);
      const resolved = await this.resolveAccount(provider, profile, meta);
      if ('error' in resolved) return this.frontend({ error: resolved.error });
      const code = await this.issueExchangeCode(resolved.user.id, resolved.signedUp);
      return this.frontend({ code });
    } catch (error) {
      if (!(error instanceof CallbackFailure)) throw error;
      this.logger.warn(
        { err: error.cause, provider: provider.id, code: error.code },
        'OpenID Connect callback refused',
      );
      return this.frontend({ error: error.code });
    }
  }

  /**
   * Redeems a one-time code from the callback. A user the callback just created gets a
   * session at once (SIGN_UP was recorded then); everyone else goes through the same
   * completion as a password sign-in.
   */
  async exchange(
    code: string,
    meta: ClientMeta,
  ): Promise<Awaited<ReturnType<AuthService['completeSignIn']>>> {
    const row = await this.oidc.consumeExchangeCode(sha256(code), new Date());
    const user = row && (await this.users.findActiveById(row.userId));
    if (row === undefined || user === undefined) throw OidcErrors.invalidCode();
    if (!row.signedUp) return this.auth.completeSignIn(user, meta);
    const issued = await this.sessions.open(user.id, meta);
    return {
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      tokenType: 'Bearer',
      expiresIn: issued.expiresIn,
      user: UserDto.from(user),
    };
  }

  private provider(id: string): OidcProviderConfig {
    const provider = this.clients.find(id);
    if (provider === undefined) throw OidcErrors.unknownProvider();
    return provider;
  }

  private frontend(params: { code: string } | { error: OidcCallbackError }): string {
    return `${this.config.appUrl}/auth/callback?${new URLSearchParams(params).toString()}`;
  }

  private async redeem(
    provider: OidcProviderConfig,
    query: URLSearchParams,
    flowCookie: string | undefined,
  ): Promise<ProviderProfile> {
    const parsed = flowCookie === undefined ? null : FLOW_COOKIE.exec(flowCookie);
    const flow =
      parsed?.[1] === undefined || parsed[2] === undefined
        ? undefined
        : await this.oidc.consumeFlow(parsed[1], provider.id, sha256(parsed[2]), new Date());
    const state = query.get('state');
    if (flow === undefined || state === null || !sameText(state, flow.state)) {
      throw new CallbackFailure(OIDC_CALLBACK_ERRORS.invalidState);
    }
    const error = query.get('error');
    if (error !== null) {
      throw new CallbackFailure(
        error === 'access_denied'
          ? OIDC_CALLBACK_ERRORS.accessDenied
          : OIDC_CALLBACK_ERRORS.providerError,
        new Error(`${error}: ${query.get('error_description') ?? ''}`),
      );
    }
    let configuration: openid.Configuration;
    try {
      configuration = await this.clients.configuration(provider);
    } catch (cause) {
      throw new CallbackFailure(OIDC_CALLBACK_ERRORS.providerError, cause);
    }
    // The URL the provider redirected to, rebuilt from configuration (not from Host headers).
    const currentUrl = new URL(this.clients.redirectUri(provider));
    currentUrl.search = query.toString();
    const client = await this.clients.library();
    try {
      const tokens = await client.authorizationCodeGrant(configuration, currentUrl, {
        pkceCodeVerifier: flow.codeVerifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      if (claims === undefined) throw new Error('no ID token');
      let source: Record<string, unknown> = claims;
      // Conformant providers (Okta, the certified reference OP) put profile claims only in
      // userinfo when an access token is issued; the subject there must match the ID token's.
      if (claims.email === undefined && configuration.serverMetadata().userinfo_endpoint) {
        const info = await client.fetchUserInfo(configuration, tokens.access_token, claims.sub);
        source = { ...info, ...claims, email: info.email, email_verified: info.email_verified };
      }
      const email = stringClaim(source.email);
      return {
        issuer: claims.iss,
        subject: claims.sub,
        // The address rules of every other entry: normalised, no invisible characters.
        email: email === undefined ? undefined : parseEmail(email),
        // The provider vouches for the address it holds. One that only NFKC makes ours (a
        // fullwidth form) may be another mailbox there: it is not taken as verified here.
        emailVerified:
          (source.email_verified === true || source.email_verified === 'true') &&
          email !== undefined &&
          email.normalize('NFKC') === email,
        name: stringClaim(source.name)?.slice(0, 100) ?? null,
      };
    } catch (cause) {
      throw new CallbackFailure(
        cause instanceof client.ResponseBodyError ||
          cause instanceof client.AuthorizationResponseError ||
          cause instanceof client.WWWAuthenticateChallengeError ||
          cause instanceof TypeError // fetch: the provider could not be reached
          ? OIDC_CALLBACK_ERRORS.providerError
          : OIDC_CALLBACK_ERRORS.invalidResponse,
        cause,
      );
    }
  }

  /**
   * API.md's account rules. A known identity signs in as its user. An unknown one is linked
   * to the active user with that email only when the provider says `email_verified` and the
   * user's email is verified here; any other existing account is `oidc.account_exists`.
   * Otherwise a new user with their own team: their email counts as verified when the
   * provider vouches for it, else it gets the sign-up verification link like a password
   * sign-up (marking an unproven address verified would hand its invitations to whoever
   * typed it in at a lax provider).
   */
  private async resolveAccount(
    provider: OidcProviderConfig,
    profile: ProviderProfile,
    meta: ClientMeta,
  ): Promise<Resolved> {
    // A second try covers two first sign-ins of one identity racing on the unique key.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.resolveOnce(provider, profile, meta);
      } catch (error) {
        if (attempt === 0 && isUniqueViolation(error, 'oidc_identities_issuer_subject_key')) {
          continue;
        }
        if (isUniqueViolation(error, 'users_email_unique')) {
          return { error: OIDC_CALLBACK_ERRORS.accountExists };
        }
        throw error;
      }
    }
  }

  private async resolveOnce(
    provider: OidcProviderConfig,
    profile: ProviderProfile,
    meta: ClientMeta,
  ): Promise<Resolved> {
    const { issuer, subject } = profile;
    const email = profile.email;
    const known = await this.txHost.transaction(async () => {
      const now = new Date();
      const identity = await this.oidc.findIdentity(issuer, subject);
      if (identity === undefined) return undefined;
      const user = await this.users.findActiveById(identity.userId);
      if (user === undefined) {
        // Left behind by a deleted account: the identity is free to start over.
        await this.oidc.deleteIdentity(identity.id);
        return undefined;
      }
      await this.oidc.touchIdentity(identity.id, email ?? null, now);
      return user;
    });
    if (known !== undefined) return { user: known, signedUp: false };
    if (email === undefined) return { error: OIDC_CALLBACK_ERRORS.emailMissing };

    const existing = await this.users.findActiveByEmail(email);
    if (existing !== undefined) {
      if (!profile.emailVerified || existing.emailVerifiedAt === null) {
        return { error: OIDC_CALLBACK_ERRORS.accountExists };
      }
      await this.oidc.insertIdentity(
        { userId: existing.id, provider: provider.id, issuer, subject, email },
        new Date(),
      );
      return { user: existing, signedUp: false };
    }

    // No usable password: the hash of a random secret nobody holds. Password sign-in then
    // fails with the usual 401 (and the usual argon2 time) until a password reset sets one.
    const passwordHash = await this.hasher.hash(randomBytes(32).toString('base64url'));
    const created = await this.txHost.transaction(async () => {
      const now = new Date();
      let user = await this.users.insert({
        email,
        name: profile.name,
        passwordHash,
        locale: meta.locale ?? DEFAULT_LOCALE,
      });
      if (profile.emailVerified) {
        user = (await this.users.markEmailVerified(user.id, email, now)) ?? user;
      } else {
        // The link's mail is queued in this transaction (background jobs).
        await this.verification.issue(user, email, 'sign-up', now);
      }
      const team = await this.teams.insertTeamWithOwner(defaultTeamName(email), user.id);
      await this.oidc.insertIdentity(
        { userId: user.id, provider: provider.id, issuer, subject, email },
        now,
      );
      for (const action of [ActivityType.SIGN_UP, ActivityType.CREATE_TEAM] as const) {
        await this.audit.recordSystem({
          action,
          userId: user.id,
          teamId: team.id,
          ipAddress: meta.ip,
        });
      }
      return user;
    });
    return { user: created, signedUp: true };
  }

  /**
   * A one-time code for POST /auth/oidc/exchange (60 s). Also how a SAML sign-in ends (the sso
   * module's ACS): `signedUp` users get a session at the exchange, everyone else the same
   * completion as a password sign-in (MFA, SIGN_IN).
   */
  async issueExchangeCode(userId: number, signedUp: boolean): Promise<string> {
    const code = randomSecret();
    const now = new Date();
    await this.oidc.insertExchangeCode(
      {
        codeHash: sha256(code),
        userId,
        signedUp,
        expiresAt: new Date(now.getTime() + OIDC_EXCHANGE_CODE_TTL_MS),
      },
      now,
    );
    return code;
  }
}
