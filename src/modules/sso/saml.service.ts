import { Injectable, Logger } from '@nestjs/common';
import { SAML, generateServiceProviderMetadata, type Profile } from '@node-saml/node-saml';
import { randomBytes } from 'node:crypto';
import { PasswordHasher } from '../../common/crypto/password-hasher.js';
import { parseEmail } from '../../common/email.js';
import { AppError } from '../../common/errors/app-error.js';
import { isUniqueViolation } from '../../common/errors/pg-errors.js';
import { DEFAULT_LOCALE } from '../../common/i18n/locales.js';
import { AppConfig } from '../../config/app-config.js';
import { ActivityType, type SsoConnection, type User } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { AuditService } from '../audit/audit.service.js';
import { MailboxProofService } from '../auth/mailbox-proof.service.js';
import { OidcService } from '../auth/oidc.service.js';
import { SessionsService, type ClientMeta } from '../auth/sessions.service.js';
import { domainOfEmail } from '../domains/domain-name.js';
import { DomainsService } from '../domains/domains.service.js';
import { TeamsService } from '../teams/teams.service.js';
import { UsersService } from '../users/users.service.js';
import { SamlRequestCache } from './saml-request-cache.js';
import {
  checkAssertion,
  EMAIL_NAME_ID,
  SAML_REQUEST_TTL_MS,
  SamlCheckError,
  samlConfig,
  spUrls,
} from './saml-sp.js';
import { SAML_ACS_ERRORS, SsoErrors, type SamlAcsError } from './sso.errors.js';
import { SsoRepository } from './sso.repository.js';

class AcsFailure extends Error {
  constructor(
    readonly code: SamlAcsError,
    cause?: unknown,
  ) {
    super(code, { cause });
  }
}

const PLAN_LIMIT_CODE = 'plan.limit_reached';

/**
 * SP-initiated SAML 2.0 sign-in per team (API.md v1.2): GET /auth/sso sends the browser to the
 * team's IdP with an AuthnRequest (HTTP-Redirect), the IdP posts the response to the ACS, which
 * validates it with node-saml plus the checks node-saml leaves to us (saml-sp.ts), then signs
 * in, links or creates the user and ends exactly like an OpenID Connect callback: a one-time
 * code for POST /auth/oidc/exchange, where MFA and SIGN_IN happen.
 */
@Injectable()
export class SamlService {
  private readonly logger = new Logger(SamlService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly txHost: TransactionHost,
    private readonly repo: SsoRepository,
    private readonly domains: DomainsService,
    private readonly users: UsersService,
    private readonly teams: TeamsService,
    private readonly audit: AuditService,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionsService,
    private readonly mailbox: MailboxProofService,
    private readonly oidc: OidcService,
  ) {}

  /** The IdP's URL with a new AuthnRequest for the team that verified the email's domain. */
  async start(email: string): Promise<string> {
    const connection = await this.connectionForEmail(email);
    if (connection === undefined) throw SsoErrors.notConfigured();
    const now = new Date();
    await this.repo.deleteExpired(new Date(now.getTime() - SAML_REQUEST_TTL_MS), now);
    const saml = this.saml(connection, new SamlRequestCache(this.repo, connection.id));
    // RelayState carries nothing secret: the request's own ID binds the answer (InResponseTo).
    return saml.getAuthorizeUrlAsync(String(connection.id), undefined, {});
  }

  /** SP metadata for the IdP (entity id, ACS with HTTP-POST, WantAssertionsSigned). */
  async metadata(connectionId: number): Promise<string> {
    const connection = await this.repo.findById(connectionId);
    if (connection === undefined) throw SsoErrors.notFound('No SSO connection with this id');
    const urls = spUrls(this.config.apiUrl, connection.id);
    return generateServiceProviderMetadata({
      issuer: urls.entityId,
      callbackUrl: urls.acsUrl,
      identifierFormat: EMAIL_NAME_ID,
      wantAssertionsSigned: true,
      publicCerts: null,
      decryptionCert: null,
    });
  }

  /** The ACS: the frontend URL with a one-time code, or with `?error=<code>`. */
  async acs(
    connectionId: number,
    body: Record<string, unknown> | undefined,
    meta: ClientMeta,
  ): Promise<string> {
    try {
      const { user, signedUp } = await this.signIn(connectionId, body, meta);
      return this.frontend({ code: await this.oidc.issueExchangeCode(user.id, signedUp) });
    } catch (error) {
      if (!(error instanceof AcsFailure)) throw error;
      this.logger.warn(
        { err: error.cause, connectionId, code: error.code },
        'SAML response refused',
      );
      return this.frontend({ error: error.code });
    }
  }

  private async signIn(
    connectionId: number,
    body: Record<string, unknown> | undefined,
    meta: ClientMeta,
  ): Promise<{ user: User; signedUp: boolean }> {
    const connection = await this.repo.findById(connectionId);
    if (connection === undefined || connection.disabledAt !== null) {
      throw new AcsFailure(SAML_ACS_ERRORS.notConfigured);
    }
    const samlResponse = body?.SAMLResponse;
    if (typeof samlResponse !== 'string' || samlResponse === '') {
      throw new AcsFailure(SAML_ACS_ERRORS.invalidResponse, new Error('no SAMLResponse'));
    }
    const urls = spUrls(this.config.apiUrl, connection.id);
    const cache = new SamlRequestCache(this.repo, connection.id);
    let profile: Profile | null;
    try {
      ({ profile } = await this.saml(connection, cache).validatePostResponseAsync({
        SAMLResponse: samlResponse,
      }));
    } catch (cause) {
      throw new AcsFailure(SAML_ACS_ERRORS.invalidResponse, cause);
    }
    if (profile === null) throw new AcsFailure(SAML_ACS_ERRORS.invalidResponse);
    // node-saml looked the request up; using it up is ours (one answer per request), before
    // our own checks, so that a refused answer uses the request up too.
    const answered = profile.inResponseTo;
    if (typeof answered !== 'string' || !(await cache.claim(answered))) {
      throw new AcsFailure(SAML_ACS_ERRORS.invalidResponse, new Error('request already answered'));
    }
    const now = new Date();
    let checked;
    try {
      checked = checkAssertion(
        Buffer.from(samlResponse, 'base64').toString('utf8'),
        profile,
        { acsUrl: urls.acsUrl, idpEntityId: connection.idpEntityId },
        now,
      );
    } catch (cause) {
      if (!(cause instanceof SamlCheckError)) throw cause;
      throw new AcsFailure(SAML_ACS_ERRORS.invalidResponse, cause);
    }
    if (checked.inResponseTo !== answered) {
      throw new AcsFailure(SAML_ACS_ERRORS.invalidResponse, new Error('InResponseTo changed'));
    }
    const email = parseEmail(checked.nameId);
    if (email === undefined || domainOfEmail(email) === undefined) {
      throw new AcsFailure(SAML_ACS_ERRORS.invalidResponse, new Error('NameID is not an email'));
    }
    if (!(await this.domains.isVerifiedBy(connection.teamId, email))) {
      throw new AcsFailure(SAML_ACS_ERRORS.domainMismatch);
    }
    if (!(await this.repo.recordAssertion(connection.id, checked.assertionId, checked.keepUntil))) {
      throw new AcsFailure(SAML_ACS_ERRORS.replayed);
    }
    return this.resolveAccount(connection.teamId, email, meta);
  }

  /**
   * API.md: a user with that email is signed in (linked), else created with a verified email
   * and no usable password. Either way they end up a `member` of the connection's team, through
   * TeamsService.join (plan limits apply there): the IdP of the team that proved the domain
   * vouches that this person belongs to it, which is what an invitation would have said; an
   * existing membership keeps its role.
   *
   * Why a verified domain proves the address: the team showed it controls the domain's DNS, and
   * its IdP (which it runs) says this person holds the mailbox; the domain's owner controls
   * every mailbox in it. So an unverified account with that address becomes verified, and what
   * anyone set up in it before (API keys, webhooks, TOTP, provider links: MailboxProofService,
   * as after a password reset), its sessions and its password (someone may have registered the
   * address first: pre-account hijacking) are removed; the person can set a password by reset.
   */
  private async resolveAccount(
    teamId: number,
    email: string,
    meta: ClientMeta,
  ): Promise<{ user: User; signedUp: boolean }> {
    // Hashed before the transaction (argon2 must not hold a connection), and only when an
    // account will get it: a new one, or one whose address this sign-in proves.
    const known = await this.users.findActiveByEmail(email);
    const unusablePassword =
      known?.emailVerifiedAt != null
        ? undefined
        : await this.hasher.hash(randomBytes(32).toString('base64url'));
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.txHost.transaction(async () => {
          const now = new Date();
          const existing = await this.users.findActiveByEmail(email);
          if (existing !== undefined) {
            let user = existing;
            if (existing.emailVerifiedAt === null) {
              const passwordHash = unusablePassword ?? (await this.unusablePassword());
              await this.users.update(existing.id, { passwordHash }, now);
              await this.sessions.revokeAllForUser(existing.id, 'mailbox_proven');
              await this.mailbox.provenByReset(existing.id, meta.ip);
              user = (await this.users.findActiveById(existing.id)) ?? existing;
            }
            await this.join(teamId, user.id);
            return { user, signedUp: false };
          }
          let user = await this.users.insert({
            email,
            name: null,
            passwordHash: unusablePassword ?? (await this.unusablePassword()),
            locale: meta.locale ?? DEFAULT_LOCALE,
          });
          user = (await this.users.markEmailVerified(user.id, email, now)) ?? user;
          await this.join(teamId, user.id);
          await this.audit.recordSystem({
            action: ActivityType.SIGN_UP,
            userId: user.id,
            teamId,
            ipAddress: meta.ip,
          });
          return { user, signedUp: true };
        });
      } catch (error) {
        // Two first sign-ins of one person racing: the second finds the first's account.
        if (attempt === 0 && isUniqueViolation(error, 'users_email_unique')) continue;
        throw error;
      }
    }
  }

  /** The hash of a random secret nobody holds (a race changed what the first look saw). */
  private unusablePassword(): Promise<string> {
    return this.hasher.hash(randomBytes(32).toString('base64url'));
  }

  private async join(teamId: number, userId: number): Promise<void> {
    try {
      await this.teams.join(teamId, userId, 'member');
    } catch (error) {
      if (error instanceof AppError && error.code === PLAN_LIMIT_CODE) {
        throw new AcsFailure(SAML_ACS_ERRORS.planLimit, error);
      }
      throw error;
    }
  }

  private async connectionForEmail(email: string): Promise<SsoConnection | undefined> {
    const domain = domainOfEmail(email);
    if (domain === undefined) return undefined;
    const teamId = await this.domains.teamVerifying(domain);
    if (teamId === undefined) return undefined;
    const connection = await this.repo.findByTeam(teamId);
    return connection?.disabledAt === null ? connection : undefined;
  }

  private saml(connection: SsoConnection, cache: SamlRequestCache): SAML {
    return new SAML(samlConfig(connection, spUrls(this.config.apiUrl, connection.id), cache));
  }

  private frontend(params: { code: string } | { error: SamlAcsError }): string {
    return `${this.config.appUrl}/auth/callback?${new URLSearchParams(params).toString()}`;
  }
}
