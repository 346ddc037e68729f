import { Injectable } from '@nestjs/common';
import { AccessService } from '../access/access.service.js';
import type { AdminActor, UserActor } from '../../common/auth/actor.js';
import { isUniqueViolation } from '../../common/errors/pg-errors.js';
import { AppConfig } from '../../config/app-config.js';
import { ActivityType, type User } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { AuditService } from '../audit/audit.service.js';
import { MailService } from '../mail/mail.service.js';
import { TeamsService } from '../teams/teams.service.js';
import { UserErrors } from '../users/users.errors.js';
import { UsersService } from '../users/users.service.js';
import { AuthErrors } from './auth.errors.js';
import { EmailVerificationRepository } from './email-verification.repository.js';
import { PasswordResetRepository } from './password-reset.repository.js';
import { recordOnUserTeams } from './staff-audit.js';
import { randomSecret, sha256 } from './tokens.js';

export const VERIFICATION_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Email verification: single-use links (stored hashed, 24 h) that prove an address, for the
 * sign-up address and for an email change. Services call `issue`/`requestChange` inside their
 * transaction; the mails are queued in it (MailService) and go out once it commits, without
 * the request waiting for SMTP or failing when it is down.
 */
@Injectable()
export class EmailVerificationService {
  constructor(
    private readonly config: AppConfig,
    private readonly txHost: TransactionHost,
    private readonly users: UsersService,
    private readonly tokens: EmailVerificationRepository,
    private readonly audit: AuditService,
    private readonly mail: MailService,
    private readonly teams: TeamsService,
    private readonly resets: PasswordResetRepository,
    private readonly access: AccessService,
  ) {}

  /**
   * Stores a new link for `email` (replacing the user's unused ones for that address) and
   * queues the mail carrying it. Call inside the caller's transaction.
   */
  async issue(userId: number, email: string, kind: 'sign-up' | 'change', now: Date): Promise<void> {
    const token = randomSecret();
    await this.tokens.invalidateForEmail(userId, email, now);
    await this.tokens.insert(
      userId,
      email,
      sha256(token),
      new Date(now.getTime() + VERIFICATION_TOKEN_TTL_MS),
    );
    const link = `${this.config.appUrl}/verify-email?token=${encodeURIComponent(token)}`;
    const intro =
      kind === 'sign-up'
        ? 'Please confirm that this is your email address.'
        : 'Please confirm this address as the new email of your account. Your current address stays in use until you do.';
    const ignore =
      kind === 'sign-up'
        ? 'If you did not create an account, ignore this email.'
        : 'If you did not ask for this, ignore this email; nothing changes.';
    await this.mail.send({
      kind: kind === 'sign-up' ? 'verification link' : 'email change confirmation link',
      to: email,
      subject: kind === 'sign-up' ? 'Verify your email address' : 'Confirm your new email address',
      text: [intro, `Confirm it here (valid for 24 hours, once): ${link}`, ignore].join('\n\n'),
      html: `<p>${intro}</p><p><a href="${link}">Confirm the address</a> (valid for 24 hours, once).</p><p>${ignore}</p>`,
    });
  }

  /**
   * PATCH /users/me {email}, inside the caller's transaction. The current address stays in use:
   * `email` becomes pending and gets a link; the current address gets a notice. My current
   * address cancels a pending change. 409 when another active user has the address now (and
   * again when the link is used). Queues both mails; returns the updated user.
   */
  async requestChange(user: User, email: string, now: Date): Promise<User> {
    if (email === user.email) {
      if (user.pendingEmail === null) return user;
      await this.tokens.invalidateAllBut(user.id, user.email, now);
      return this.setPending(user.id, null, now);
    }
    if (await this.users.emailInUseByOther(email, user.id)) throw UserErrors.emailTaken();
    // Links for an earlier pending address stop working; links for the current one stay.
    await this.tokens.invalidateAllBut(user.id, user.email, now);
    const updated = await this.setPending(user.id, email, now);
    await this.issue(user.id, email, 'change', now);
    await this.mail.send({
      kind: 'email change notice',
      to: user.email,
      subject: 'Your email address is being changed',
      text: [
        `Someone signed in to your account asked to change its email address to ${email}.`,
        'The change happens only when the link sent to that address is used; until then this address stays in use.',
        'If this was not you, change your password now: your account may be in other hands.',
      ].join('\n\n'),
    });
    return updated;
  }

  /** POST /auth/verify-email/resend: a fresh link for each address still waiting for one. */
  async resend(auth: UserActor): Promise<void> {
    const now = new Date();
    await this.txHost.transaction(async () => {
      const user = await this.users.findActiveById(auth.id);
      if (!user) throw AuthErrors.unauthorized();
      if (user.emailVerifiedAt === null) await this.issue(user.id, user.email, 'sign-up', now);
      if (user.pendingEmail !== null) {
        await this.issue(user.id, user.pendingEmail, 'change', now);
      }
    });
  }

  /**
   * Back office ("Resend verification"): a fresh sign-up link for the user's unverified email,
   * older links for it retired, ADMIN_RESEND_VERIFICATION against each of the user's teams, in
   * one transaction. 409 `email.already_verified` when there is nothing to verify; 404
   * `user.not_found` for a deleted account; 403 `admin.read_only` for support staff.
   */
  async resendByAdmin(actor: AdminActor, userId: number): Promise<void> {
    this.access.requireAccountWrite(actor);
    const now = new Date();
    await this.txHost.transaction(async () => {
      const user = await this.users.lockActiveById(userId);
      if (!user) throw AuthErrors.userNotFound();
      if (user.emailVerifiedAt !== null) throw AuthErrors.emailAlreadyVerified();
      await this.issue(user.id, user.email, 'sign-up', now);
      await recordOnUserTeams(
        this.audit,
        this.teams,
        actor,
        user.id,
        ActivityType.ADMIN_RESEND_VERIFICATION,
      );
    });
  }

  /**
   * POST /auth/verify-email: uses the link once. A link for the current address verifies it; a
   * link for the pending address makes it the email (verified) unless another active user took
   * it meanwhile (409, nothing changes), and retires outstanding password-reset links (they went
   * to the old address). Records VERIFY_EMAIL in the same transaction.
   */
  async confirm(token: string, ipAddress: string | null): Promise<void> {
    const now = new Date();
    try {
      await this.txHost.transaction(async () => {
        const used = await this.tokens.consume(sha256(token), now);
        if (!used) throw AuthErrors.invalidVerificationToken();
        const user = await this.users.findActiveById(used.userId);
        if (!user) throw AuthErrors.invalidVerificationToken();
        if (used.email === user.email) {
          if (user.emailVerifiedAt !== null) return;
          await this.users.markEmailVerified(user.id, user.email, now);
        } else if (used.email === user.pendingEmail) {
          if (await this.users.emailInUseByOther(used.email, user.id)) {
            throw UserErrors.emailTaken();
          }
          await this.users.applyVerifiedEmail(user.id, used.email, now);
          // Links for the old address, or an older pending one, mean nothing any more.
          await this.tokens.invalidateAllBut(user.id, used.email, now);
          // Nor do password-reset links mailed to the old address: whoever reads that mailbox
          // no longer speaks for the account.
          await this.resets.invalidateAllForUser(user.id, now);
        } else {
          // A link for an address the user no longer has or wants (a superseded change).
          throw AuthErrors.invalidVerificationToken();
        }
        await this.audit.recordSystem({
          action: ActivityType.VERIFY_EMAIL,
          userId: user.id,
          ipAddress,
        });
      });
    } catch (error) {
      // Another account took the address between our check and the update.
      if (isUniqueViolation(error, 'users_email_unique')) throw UserErrors.emailTaken();
      throw error;
    }
  }

  private async setPending(userId: number, email: string | null, now: Date): Promise<User> {
    const user = await this.users.setPendingEmail(userId, email, now);
    if (!user) throw AuthErrors.unauthorized('The session has ended');
    return user;
  }
}
