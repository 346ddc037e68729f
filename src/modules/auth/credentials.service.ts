import { Injectable } from '@nestjs/common';
import { AccessService } from '../access/access.service.js';
import type { Actor, AdminActor, UserActor } from '../../common/auth/actor.js';
import { PasswordHasher } from '../../common/crypto/password-hasher.js';
import { toLocale } from '../../common/i18n/locales.js';
import { AppConfig } from '../../config/app-config.js';
import { ActivityType } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { AuditService } from '../audit/audit.service.js';
import { renderMail } from '../mail/mail-templates.js';
import { MailService } from '../mail/mail.service.js';
import { UsersService } from '../users/users.service.js';
import type { ChangePasswordDto, PasswordResetConfirmDto } from './auth.dto.js';
import { AuthErrors } from './auth.errors.js';
import { SsoEnforcement } from './sso-enforcement.js';
import { MailboxProofService } from './mailbox-proof.service.js';
import { PasswordResetRepository } from './password-reset.repository.js';
import type { RevokeReason } from './sessions.repository.js';
import { SessionsService } from './sessions.service.js';
import { randomSecret, sha256 } from './tokens.js';

export const RESET_TOKEN_TTL_MS = 60 * 60 * 1000;

/**
 * UPDATE_PASSWORD is recorded in the account's name, `by` the actor who set it (the user, or
 * an admin, from their address), or for a reset link `resetFrom` the address that used it.
 */
export type SetPasswordOptions = {
  /** The session that stays signed in (a password change from that session); else all end. */
  keepSessionId?: string;
  reason: RevokeReason;
} & ({ by: Actor } | { resetFrom: string | null });

/** Password change, forgotten-password reset, and the rules every password change follows. */
@Injectable()
export class CredentialsService {
  constructor(
    private readonly config: AppConfig,
    private readonly txHost: TransactionHost,
    private readonly hasher: PasswordHasher,
    private readonly users: UsersService,
    private readonly resets: PasswordResetRepository,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
    private readonly mail: MailService,
    private readonly mailbox: MailboxProofService,
    private readonly access: AccessService,
    private readonly sso: SsoEnforcement,
  ) {}

  async changePassword(auth: UserActor, dto: ChangePasswordDto): Promise<void> {
    const user = await this.users.findActiveById(auth.id);
    if (!user) throw AuthErrors.unauthorized();
    if (!(await this.hasher.verify(user.passwordHash, dto.currentPassword))) {
      throw AuthErrors.wrongPassword();
    }
    await this.setPassword(user.id, dto.newPassword, {
      keepSessionId: auth.sessionId,
      by: auth,
      reason: 'password_changed',
    });
  }

  /**
   * Sets a new password with every rule of a password change, in one transaction: outstanding
   * reset links stop working, the user's sessions end (except `keepSessionId`), and
   * UPDATE_PASSWORD is recorded. Exported for the admin panel's "Set password".
   */
  async setPassword(
    userId: number,
    newPassword: string,
    options: SetPasswordOptions,
  ): Promise<void> {
    const passwordHash = await this.hasher.hash(newPassword);
    await this.txHost.transaction(() => this.applyPasswordHash(userId, passwordHash, options));
  }

  /**
   * The back office's "Set password": the same rules as a password change (argon2id hash,
   * reset links invalidated, every session of the user revoked with reason `admin`,
   * UPDATE_PASSWORD recorded for the user, from the admin's address).
   */
  setPasswordByAdmin(actor: AdminActor, userId: number, newPassword: string): Promise<void> {
    this.access.requireAccountWrite(actor);
    return this.setPassword(userId, newPassword, { by: actor, reason: 'admin' });
  }

  /**
   * Retires the user's outstanding reset links, inside the caller's transaction: for a change
   * of address (the back office's edit; a confirmed change does it in EmailVerificationService),
   * since a link proves only the mailbox it was sent to. A password reset verifies the address.
   */
  async retireResetLinks(userId: number): Promise<void> {
    await this.resets.invalidateAllForUser(userId, new Date());
  }

  /**
   * Always resolves the same way (the route answers 202), whether or not the account exists.
   * The link and its queued mail commit together; the request never waits for SMTP, so its
   * latency does not reveal that the account exists.
   */
  async requestReset(email: string): Promise<void> {
    // By domain, whether or not the account exists (no enumeration).
    await this.sso.assertPasswordAllowed(email);
    const user = await this.users.findActiveByEmail(email);
    if (!user) return;
    const token = randomSecret();
    const link = `${this.config.appUrl}/reset-password?token=${encodeURIComponent(token)}`;
    await this.txHost.transaction(async () => {
      await this.resets.insert(user.id, sha256(token), new Date(Date.now() + RESET_TOKEN_TTL_MS));
      await this.mail.send(
        renderMail(toLocale(user.locale), 'passwordReset', user.email, { link }),
      );
    });
  }

  /**
   * Uses the token once, sets the password and ends every session of the user. The link proved
   * the mailbox: the address becomes verified and what was set up before it was verified goes
   * (MailboxProofService), in the same transaction.
   */
  async confirmReset(dto: PasswordResetConfirmDto, ipAddress: string | null): Promise<void> {
    const tokenHash = sha256(dto.token);
    // Check before hashing, so invalid tokens cost no argon2 work.
    const found = await this.resets.findUsable(tokenHash, new Date());
    if (!found) throw AuthErrors.invalidResetToken();
    // A link mailed before the team enforced SSO is refused too (the token stays unused).
    const holder = await this.users.findActiveById(found.userId);
    if (holder !== undefined) await this.sso.assertPasswordAllowed(holder.email);
    const passwordHash = await this.hasher.hash(dto.newPassword);
    await this.txHost.transaction(async () => {
      // Atomic: of two concurrent confirmations only one consumes the token.
      const consumed = await this.resets.consume(found.id, new Date());
      if (!consumed) throw AuthErrors.invalidResetToken();
      await this.applyPasswordHash(consumed.userId, passwordHash, {
        resetFrom: ipAddress,
        reason: 'password_reset',
      });
      await this.mailbox.provenByReset(consumed.userId, ipAddress);
    });
  }

  private async applyPasswordHash(
    userId: number,
    passwordHash: string,
    options: SetPasswordOptions,
  ): Promise<void> {
    const now = new Date();
    const updated = await this.users.update(userId, { passwordHash }, now);
    if (!updated) throw AuthErrors.invalidResetToken('The account no longer exists');
    await this.resets.invalidateAllForUser(userId, now);
    await this.sessions.revokeAllForUser(userId, options.reason, options.keepSessionId);
    const entry = { action: ActivityType.UPDATE_PASSWORD, userId };
    await ('by' in options
      ? this.audit.recordFor(options.by, entry)
      : this.audit.recordSystem({ ...entry, ipAddress: options.resetFrom }));
  }
}
