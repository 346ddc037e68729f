import { Injectable, Logger } from '@nestjs/common';
import { AccessService } from '../access/access.service.js';
import type { AdminActor, UserActor } from '../../common/auth/actor.js';
import { assertVerifiedEmail } from '../../common/auth/verified-email.js';
import { CommonErrors } from '../../common/errors/common.errors.js';
import { PasswordHasher } from '../../common/crypto/password-hasher.js';
import { openSecret, sealSecret } from '../../common/crypto/secret-box.js';
import { AppError } from '../../common/errors/app-error.js';
import { RateLimiterService } from '../../common/rate-limit/rate-limiter.service.js';
import { AppConfig } from '../../config/app-config.js';
import { ActivityType, type User } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { AuditService } from '../audit/audit.service.js';
import { TeamsService } from '../teams/teams.service.js';
import { UsersService } from '../users/users.service.js';
import { AuthErrors } from './auth.errors.js';
import { MfaRepository } from './mfa.repository.js';
import {
  ADMIN_MFA_REASON_MAX_LENGTH,
  ADMIN_MFA_REASON_MIN_LENGTH,
  type MfaCodeDto,
  type RecoveryCodesDto,
  type TotpEnrolmentDto,
} from './mfa.dto.js';
import { recordOnUserTeams } from './staff-audit.js';
import { SessionsService } from './sessions.service.js';
import { randomSecret, sha256 } from './tokens.js';
import {
  newRecoveryCodes,
  newTotpSecret,
  normalizeTotpCode,
  recoveryCodeHash,
  totpStep,
  totpUrl,
} from './totp.js';

/** How long the `mfaToken` of a sign-in's first step stays usable (API.md: 5 minutes). */
export const MFA_CHALLENGE_TTL_MS = 5 * 60 * 1000;

/** Errors that mean "wrong code": each costs one attempt of the user's `mfa-code` allowance. */
const WRONG_CODE = new Set<string>([AuthErrors.invalidMfaCode.code, AuthErrors.mfaWrongCode.code]);

type CodeKinds = 'totp' | 'totp-or-recovery';

/**
 * Two-factor sign-in with TOTP (RFC 6238 through `otpauth`): enrolment, confirmation, recovery
 * codes, switching off, and the second step of a sign-in (POST /auth/sign-in/mfa, the admin
 * login). Secrets are sealed with AES-256-GCM (MFA_ENCRYPTION_KEY), bound to their user id;
 * a code's time step is accepted once; wrong codes are limited per user (`mfa-code`).
 */
@Injectable()
export class MfaService {
  private readonly logger = new Logger('MfaService');

  constructor(
    private readonly config: AppConfig,
    private readonly txHost: TransactionHost,
    private readonly hasher: PasswordHasher,
    private readonly users: UsersService,
    private readonly mfa: MfaRepository,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
    private readonly limiter: RateLimiterService,
    private readonly teams: TeamsService,
    private readonly access: AccessService,
  ) {}

  /**
   * POST /users/me/mfa/totp: a new secret, stored sealed and pending until confirmed. A
   * second call replaces a pending secret (the app must scan the new one). 409 when MFA is on.
   * Enrolling and confirming need a verified email (403 `email.unverified`): a second factor
   * planted by someone who signed up with another person's address would lock its real owner
   * out after a password reset (API.md v1.2).
   */
  async startEnrolment(actor: UserActor, password: string): Promise<TotpEnrolmentDto> {
    assertVerifiedEmail(actor);
    await this.checkPassword(actor, password);
    const secret = newTotpSecret();
    return this.txHost.transaction(async () => {
      const user = await this.lockUser(actor);
      if (user.mfaEnabledAt !== null) throw AuthErrors.mfaAlreadyEnabled();
      await this.mfa.savePendingTotp(user.id, this.seal(user.id, secret), new Date());
      return { secret, otpauthUrl: totpUrl(secret, user.email) };
    });
  }

  /**
   * POST /users/me/mfa/totp/confirm: the first code proves the app holds the secret. MFA is
   * on from then; ten recovery codes are made (shown once, stored hashed); every other
   * session of mine ends (it was opened without a second factor). ENABLE_MFA commits with it.
   */
  async confirmEnrolment(actor: UserActor, code: string): Promise<RecoveryCodesDto> {
    assertVerifiedEmail(actor);
    return this.limitWrongCodes(actor.id, () =>
      this.txHost.transaction(async () => {
        const now = new Date();
        const user = await this.lockUser(actor);
        if (user.mfaEnabledAt !== null) throw AuthErrors.mfaAlreadyEnabled();
        if (!(await this.mfa.findTotp(user.id))) throw AuthErrors.mfaNotPending();
        if (!(await this.acceptCode(user.id, code, 'totp', now))) throw AuthErrors.mfaWrongCode();
        await this.users.setMfaEnabledAt(user.id, now, now);
        const recoveryCodes = await this.issueRecoveryCodes(user.id, now);
        await this.sessions.revokeAllForUser(user.id, 'mfa_enabled', actor.sessionId);
        await this.audit.recordFor(actor, { action: ActivityType.ENABLE_MFA });
        return { recoveryCodes };
      }),
    );
  }

  /**
   * DELETE /users/me/mfa/totp: with my password and a current code (or a recovery code, for a
   * lost device), MFA goes off: secret, recovery codes and open sign-in steps are deleted.
   * DISABLE_MFA commits with it.
   */
  async disable(actor: UserActor, dto: MfaCodeDto): Promise<void> {
    await this.withPasswordAndCode(actor, dto, async (userId, now) => {
      await this.mfa.deleteAllForUser(userId);
      await this.users.setMfaEnabledAt(userId, null, now);
      await this.audit.recordFor(actor, { action: ActivityType.DISABLE_MFA });
    });
  }

  /**
   * Back office ("Disable MFA"), after the admin checked the user's identity some other way
   * (a lost device): secret, recovery codes and open sign-in steps are deleted, and
   * ADMIN_DISABLE_MFA with the `reason` is logged against each of the user's teams, in one
   * transaction; the reason also goes to the application log. 400 without a reason of
   * 10 to 500 characters; 409 `mfa.not_enabled`; 404 `user.not_found`; 403 for support staff.
   */
  async disableByAdmin(actor: AdminActor, userId: number, reason: string): Promise<void> {
    this.access.requireAccountWrite(actor);
    const why = reason.trim();
    if (why.length < ADMIN_MFA_REASON_MIN_LENGTH || why.length > ADMIN_MFA_REASON_MAX_LENGTH) {
      throw CommonErrors.validation('Invalid request', [
        {
          field: 'reason',
          message: `reason must be ${ADMIN_MFA_REASON_MIN_LENGTH} to ${ADMIN_MFA_REASON_MAX_LENGTH} characters`,
        },
      ]);
    }
    await this.txHost.transaction(async () => {
      const now = new Date();
      const user = await this.users.lockActiveById(userId);
      if (!user) throw AuthErrors.userNotFound();
      if (user.mfaEnabledAt === null) throw AuthErrors.mfaNotEnabled();
      await this.mfa.deleteAllForUser(user.id);
      await this.users.setMfaEnabledAt(user.id, null, now);
      await recordOnUserTeams(
        this.audit,
        this.teams,
        actor,
        user.id,
        ActivityType.ADMIN_DISABLE_MFA,
        why,
      );
    });
    this.logger.log(
      { adminId: actor.id, userId, reason: why },
      'admin disabled two-factor sign-in of a user',
    );
  }

  /**
   * For a password reset: when the user's TOTP (on or pending) was set up before `before`
   * (their address was not verified yet), secret, recovery codes and open sign-in steps are
   * deleted and MFA is off; DISABLE_MFA in the user's name when it was on. Inside the caller's
   * transaction.
   */
  async removeCreatedBefore(userId: number, before: Date, ipAddress: string | null): Promise<void> {
    await this.txHost.transaction(async () => {
      const totp = await this.mfa.findTotp(userId);
      if (!totp || totp.createdAt.getTime() >= before.getTime()) return;
      const user = await this.users.lockActiveById(userId);
      if (!user) return;
      await this.mfa.deleteAllForUser(user.id);
      if (user.mfaEnabledAt === null) return;
      await this.users.setMfaEnabledAt(user.id, null, new Date());
      await this.audit.recordSystem({
        action: ActivityType.DISABLE_MFA,
        userId: user.id,
        ipAddress,
      });
    });
  }

  /** POST /users/me/mfa/recovery-codes: ten new codes; every earlier one stops working. */
  async regenerateRecoveryCodes(actor: UserActor, dto: MfaCodeDto): Promise<RecoveryCodesDto> {
    return this.withPasswordAndCode(actor, dto, async (userId, now) => ({
      recoveryCodes: await this.issueRecoveryCodes(userId, now),
    }));
  }

  /**
   * Runs `change` in a transaction holding my user row, once my password and a current code
   * (TOTP or recovery) are right and MFA is on; wrong codes count towards the limit.
   */
  private async withPasswordAndCode<T>(
    actor: UserActor,
    dto: MfaCodeDto,
    change: (userId: number, now: Date) => Promise<T>,
  ): Promise<T> {
    await this.checkPassword(actor, dto.password);
    return this.limitWrongCodes(actor.id, () =>
      this.txHost.transaction(async () => {
        const now = new Date();
        const user = await this.lockUser(actor);
        if (user.mfaEnabledAt === null) throw AuthErrors.mfaNotEnabled();
        if (!(await this.acceptCode(user.id, dto.code, 'totp-or-recovery', now))) {
          throw AuthErrors.mfaWrongCode();
        }
        return change(user.id, now);
      }),
    );
  }

  /** First step of a sign-in with MFA on: a single-use `mfaToken`, valid 5 minutes, stored hashed. */
  async createChallenge(userId: number): Promise<string> {
    const token = randomSecret();
    const now = new Date();
    await this.mfa.insertChallenge(
      userId,
      sha256(token),
      new Date(now.getTime() + MFA_CHALLENGE_TTL_MS),
      now,
    );
    return token;
  }

  /**
   * Second step: the user of a live challenge whose code (TOTP or unused recovery code) is
   * right. Uses the challenge up, inside the caller's transaction when there is one (so the
   * session opened with it commits together). A wrong code leaves the challenge usable until
   * it expires, within the user's wrong-code allowance.
   */
  async redeemChallenge(mfaToken: string, code: string): Promise<User> {
    const tokenHash = sha256(mfaToken);
    const found = await this.mfa.findChallenge(tokenHash);
    if (!found || found.usedAt !== null || found.expiresAt <= new Date()) {
      throw AuthErrors.invalidMfaToken();
    }
    return this.limitWrongCodes(found.userId, () =>
      this.txHost.transaction(async () => {
        const now = new Date();
        const challenge = await this.mfa.findChallengeForUpdate(tokenHash);
        if (!challenge || challenge.usedAt !== null || challenge.expiresAt <= now) {
          throw AuthErrors.invalidMfaToken();
        }
        const user = await this.users.lockActiveById(challenge.userId);
        // Deleted, or MFA switched off meanwhile (which also deletes its challenges).
        if (!user || user.mfaEnabledAt === null) throw AuthErrors.invalidMfaToken();
        if (!(await this.acceptCode(user.id, code, 'totp-or-recovery', now))) {
          throw AuthErrors.invalidMfaCode();
        }
        await this.mfa.markChallengeUsed(challenge.id, now);
        return user;
      }),
    );
  }

  /**
   * The admin login's second factor: whether `code` (TOTP or recovery code) is right for the
   * user, with the same replay refusal and wrong-code limit (throws RateLimitedError).
   */
  async verifySecondFactor(userId: number, code: string): Promise<boolean> {
    try {
      await this.limitWrongCodes(userId, () =>
        this.txHost.transaction(async () => {
          const user = await this.users.lockActiveById(userId);
          if (!user || user.mfaEnabledAt === null) throw AuthErrors.invalidMfaCode();
          if (!(await this.acceptCode(user.id, code, 'totp-or-recovery', new Date()))) {
            throw AuthErrors.invalidMfaCode();
          }
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof AppError && error.code === AuthErrors.invalidMfaCode.code) return false;
      throw error;
    }
  }

  /**
   * Accepts `code` for the user (row locked by the caller): a TOTP code of a step after the
   * last accepted one (replays refused), or, when allowed, an unused recovery code (used up).
   */
  private async acceptCode(
    userId: number,
    code: string,
    kinds: CodeKinds,
    now: Date,
  ): Promise<boolean> {
    if (normalizeTotpCode(code) !== undefined) {
      const totp = await this.mfa.findTotp(userId);
      if (!totp) return false;
      const secret = openSecret(
        this.config.mfa.encryptionKey,
        totp.secretEncrypted,
        context(userId),
      );
      const step = totpStep(secret, code, now.getTime());
      if (step === undefined) return false;
      if (totp.lastUsedStep !== null && step <= totp.lastUsedStep) return false;
      return this.mfa.acceptStep(userId, step);
    }
    if (kinds !== 'totp-or-recovery') return false;
    const hash = recoveryCodeHash(code);
    return hash !== undefined && this.mfa.useRecoveryCode(userId, hash, now);
  }

  /**
   * Refuses at once when the user has no wrong-code attempt left (429 with Retry-After, even
   * for a right code); otherwise runs `fn`, and a wrong code costs one attempt.
   */
  private async limitWrongCodes<T>(userId: number, fn: () => Promise<T>): Promise<T> {
    const subject = { ip: null, userId };
    await this.limiter.assertAvailable('mfa-code', subject);
    try {
      return await fn();
    } catch (error) {
      if (error instanceof AppError && WRONG_CODE.has(error.code)) {
        await this.limiter.consume('mfa-code', subject);
      }
      throw error;
    }
  }

  private async issueRecoveryCodes(userId: number, now: Date): Promise<string[]> {
    const codes = newRecoveryCodes();
    await this.mfa.replaceRecoveryCodes(
      userId,
      codes.map((code) => recoveryCodeHash(code)!),
      now,
    );
    return codes;
  }

  private async checkPassword(actor: UserActor, password: string): Promise<void> {
    const user = await this.users.findActiveById(actor.id);
    if (!user) throw AuthErrors.unauthorized('The session has ended');
    if (!(await this.hasher.verify(user.passwordHash, password))) throw AuthErrors.wrongPassword();
  }

  private async lockUser(actor: UserActor): Promise<User> {
    const user = await this.users.lockActiveById(actor.id);
    if (!user) throw AuthErrors.unauthorized('The session has ended');
    return user;
  }

  private seal(userId: number, secret: string): string {
    return sealSecret(this.config.mfa.encryptionKey, secret, context(userId));
  }
}

/** Associated data of a sealed secret: it only opens for the user it was sealed for. */
function context(userId: number): string {
  return `user_totp:${userId}`;
}
