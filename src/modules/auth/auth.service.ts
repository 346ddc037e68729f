import { Injectable } from '@nestjs/common';
import type { UserActor } from '../../common/auth/actor.js';
import { PasswordHasher } from '../../common/crypto/password-hasher.js';
import { DEFAULT_LOCALE, type Locale } from '../../common/i18n/locales.js';
import { isUniqueViolation } from '../../common/errors/pg-errors.js';
import { LoginRateLimiter } from '../../common/rate-limit/rate-limiter.service.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { ActivityType, type TeamRole, type User } from '../../database/schema.js';
import { AuditService } from '../audit/audit.service.js';
import { InvitationsService } from '../invitations/invitations.service.js';
import { UserDto } from '../users/users.dto.js';
import { UserErrors } from '../users/users.errors.js';
import { TeamsService } from '../teams/teams.service.js';
import { UsersService } from '../users/users.service.js';
import type {
  SignInDto,
  SignInResponseDto,
  SignUpDto,
  SignUpResponseDto,
  SignUpTeamDto,
  TokensDto,
} from './auth.dto.js';
import { AuthErrors } from './auth.errors.js';
import { EmailVerificationService } from './email-verification.service.js';
import type { SignInMfaDto, SignInResultDto } from './mfa.dto.js';
import { MfaService } from './mfa.service.js';
import { SessionsService, type ClientMeta, type IssuedTokens } from './sessions.service.js';
import { SsoEnforcement } from './sso-enforcement.js';

/** What the new user joins at sign-up, and the activity that records it. */
interface Joined {
  team: SignUpTeamDto;
  activity: ActivityType.CREATE_TEAM | ActivityType.ACCEPT_INVITATION;
}

const TEAM_NAME_MAX = 100;

/** "<email>'s Team", shortened to fit teams.name (varchar 100). */
export function defaultTeamName(email: string): string {
  const suffix = "'s Team";
  return `${email.slice(0, TEAM_NAME_MAX - suffix.length)}${suffix}`;
}

function tokensDto(issued: IssuedTokens): TokensDto {
  return {
    accessToken: issued.accessToken,
    refreshToken: issued.refreshToken,
    tokenType: 'Bearer',
    expiresIn: issued.expiresIn,
  };
}

@Injectable()
export class AuthService {
  constructor(
    private readonly txHost: TransactionHost,
    private readonly hasher: PasswordHasher,
    private readonly users: UsersService,
    private readonly teams: TeamsService,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
    private readonly invitations: InvitationsService,
    private readonly verification: EmailVerificationService,
    private readonly mfa: MfaService,
    private readonly login: LoginRateLimiter,
    private readonly sso: SsoEnforcement,
  ) {}

  /**
   * Creates the user, what they join (a new team, or the invited team) and their first
   * session, with SIGN_UP and CREATE_TEAM/ACCEPT_INVITATION rows, all in one transaction.
   * `acceptLanguage` (the request's best supported language) is the account's locale unless
   * `dto.locale` names one. The email is verified when an invite token for it was used, else a verification link is
   * stored and its mail queued in the transaction (it goes out after the commit).
   */
  async signUp(
    dto: SignUpDto,
    meta: ClientMeta,
    acceptLanguage?: Locale,
  ): Promise<SignUpResponseDto> {
    // Hash before opening the transaction: argon2 is slow and must not hold a connection.
    const passwordHash = await this.hasher.hash(dto.password);
    try {
      return await this.txHost.transaction(async () => {
        const now = new Date();
        let user = await this.users.insert({
          email: dto.email,
          name: dto.name ?? null,
          passwordHash,
          // API.md v1.2: the chosen locale, else the request's language, else English.
          locale: dto.locale ?? acceptLanguage ?? DEFAULT_LOCALE,
        });
        let joined: Joined;
        if (dto.inviteToken === undefined) {
          joined = await this.createOwnTeam(user);
          await this.verification.issue(user, user.email, 'sign-up', now);
        } else {
          joined = await this.joinByInvitation(user, dto.inviteToken);
          // The invitation link reached this address: that proves the mailbox.
          user = (await this.users.markEmailVerified(user.id, user.email, now)) ?? user;
        }
        const issued = await this.sessions.open(user.id, meta);
        await this.audit.recordSystem({
          action: ActivityType.SIGN_UP,
          userId: user.id,
          teamId: joined.team.id,
          ipAddress: meta.ip,
        });
        await this.audit.recordSystem({
          action: joined.activity,
          userId: user.id,
          teamId: joined.team.id,
          ipAddress: meta.ip,
        });
        return { ...tokensDto(issued), user: UserDto.from(user), team: joined.team };
      });
    } catch (error) {
      // Also covers two concurrent sign-ups with one address: the loser hits the unique index.
      if (isUniqueViolation(error, 'users_email_unique')) throw UserErrors.emailTaken();
      throw error;
    }
  }

  /** Sign-up without an invitation: "<email>'s Team" with the new user as owner. */
  private async createOwnTeam(user: User): Promise<Joined> {
    const role: TeamRole = 'owner';
    const team = await this.teams.insertTeamWithOwner(defaultTeamName(user.email), user.id);
    return { team: { id: team.id, name: team.name, role }, activity: ActivityType.CREATE_TEAM };
  }

  /**
   * Sign-up with an invite token: the invitations module verifies the token for `user.email`,
   * adds the membership with the invited role and marks the invitation accepted, inside this
   * transaction (any 4xx it throws rolls the new user back too).
   */
  private async joinByInvitation(user: User, inviteToken: string): Promise<Joined> {
    const { team, membership } = await this.invitations.redeemForNewUser(
      inviteToken,
      user.id,
      user.email,
    );
    return {
      team: { id: team.id, name: team.name, role: membership.role },
      activity: ActivityType.ACCEPT_INVITATION,
    };
  }

  /**
   * Same status, body and (about) time for an unknown email, a wrong password and a deleted
   * account: a missing user still costs one argon2 verify against a dummy hash. Throttled by
   * LoginRateLimiter, shared with the /admin login: failures per IP and per IP + email answer
   * 429, failures for an email from anywhere only slow its sign-ins down. An address under
   * SSO enforcement gets 403 `auth.sso_required` (SsoEnforcement).
   */
  async signIn(dto: SignInDto, meta: ClientMeta): Promise<SignInResultDto> {
    // Decided by the address's domain alone, before any password check: it reveals no more
    // than GET /auth/sso does, and whether an account exists stays unknown.
    await this.sso.assertPasswordAllowed(dto.email);
    const user = await this.login.check({ ip: meta.ip, email: dto.email }, async () => {
      const found = await this.users.findActiveByEmail(dto.email);
      if (found === undefined) {
        await this.hasher.verifyDummy(dto.password);
        return undefined;
      }
      return (await this.hasher.verify(found.passwordHash, dto.password)) ? found : undefined;
    });
    if (user === undefined) throw AuthErrors.invalidCredentials();
    return this.completeSignIn(user, meta);
  }

  /**
   * The end of every sign-in once the first factor is proven (password here, an OpenID
   * provider in POST /auth/oidc/exchange): with MFA on, a single-use `mfaToken` for
   * POST /auth/sign-in/mfa and no tokens; otherwise a new session, SIGN_IN, tokens + user.
   */
  async completeSignIn(user: User, meta: ClientMeta): Promise<SignInResultDto> {
    if (user.mfaEnabledAt !== null) {
      return { mfaRequired: true, mfaToken: await this.mfa.createChallenge(user.id) };
    }
    return this.txHost.transaction(() => this.openSignedIn(user, meta));
  }

  /**
   * POST /auth/sign-in/mfa: the challenge is used up, the session opened and SIGN_IN written
   * in one transaction.
   */
  async signInWithMfa(dto: SignInMfaDto, meta: ClientMeta): Promise<SignInResponseDto> {
    return this.txHost.transaction(async () => {
      const user = await this.mfa.redeemChallenge(dto.mfaToken, dto.code);
      return this.openSignedIn(user, meta);
    });
  }

  /** Opens a session and records SIGN_IN (in the caller's transaction). */
  private async openSignedIn(user: User, meta: ClientMeta): Promise<SignInResponseDto> {
    const issued = await this.sessions.open(user.id, meta);
    await this.audit.recordSystem({
      action: ActivityType.SIGN_IN,
      userId: user.id,
      ipAddress: meta.ip,
    });
    return { ...tokensDto(issued), user: UserDto.from(user) };
  }

  async refresh(refreshToken: string): Promise<TokensDto> {
    return tokensDto(await this.sessions.refresh(refreshToken));
  }

  /** Ends this session and records SIGN_OUT, in one transaction. */
  async signOut(auth: UserActor): Promise<void> {
    await this.txHost.transaction(async () => {
      await this.sessions.revoke(auth.sessionId, 'sign_out');
      await this.audit.recordFor(auth, { action: ActivityType.SIGN_OUT });
    });
  }
}
