import { Injectable } from '@nestjs/common';
import { AccessService } from '../access/access.service.js';
import { randomBytes } from 'node:crypto';
import type { Actor, UserActor } from '../../common/auth/actor.js';
import { PasswordHasher } from '../../common/crypto/password-hasher.js';
import { ActivityType } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { AuditService } from '../audit/audit.service.js';
import { BillingService } from '../billing/billing.service.js';
import { UserDto, type UpdateMeDto } from '../users/users.dto.js';
import { UserErrors } from '../users/users.errors.js';
import { TeamsService } from '../teams/teams.service.js';
import { UsersService } from '../users/users.service.js';
import type { DeleteAccountDto } from './auth.dto.js';
import { AuthErrors } from './auth.errors.js';
import { EmailVerificationService } from './email-verification.service.js';
import { PasswordResetRepository } from './password-reset.repository.js';
import { SessionsService } from './sessions.service.js';

/** The address a deleted account keeps: unique, undeliverable (RFC 2606), within varchar(255). */
export function deletedEmail(userId: number): string {
  return `deleted+${userId}+${randomBytes(6).toString('hex')}@deleted.invalid`;
}

@Injectable()
export class AccountService {
  constructor(
    private readonly txHost: TransactionHost,
    private readonly hasher: PasswordHasher,
    private readonly users: UsersService,
    private readonly teams: TeamsService,
    private readonly resets: PasswordResetRepository,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
    private readonly billing: BillingService,
    private readonly verification: EmailVerificationService,
    private readonly access: AccessService,
  ) {}

  /**
   * PATCH /users/me. The name changes at once; a new email only becomes pending (see
   * EmailVerificationService.requestChange), since an address counts as mine once proven.
   * UPDATE_ACCOUNT commits with the change.
   */
  async updateMe(auth: UserActor, dto: UpdateMeDto): Promise<UserDto> {
    if (dto.name === undefined && dto.email === undefined) throw UserErrors.emptyUpdate();
    const now = new Date();
    const user = await this.txHost.transaction(async () => {
      let current = await this.users.findActiveById(auth.id);
      if (dto.name !== undefined && current) {
        current = await this.users.update(auth.id, { name: dto.name }, now);
      }
      if (!current) throw AuthErrors.unauthorized('The session has ended');
      const changed =
        dto.email === undefined
          ? current
          : await this.verification.requestChange(current, dto.email, now);
      await this.audit.recordFor(auth, { action: ActivityType.UPDATE_ACCOUNT });
      return changed;
    });
    return UserDto.from(user);
  }

  async deleteMe(auth: UserActor, dto: DeleteAccountDto): Promise<void> {
    const user = await this.users.findActiveById(auth.id);
    if (!user) throw AuthErrors.unauthorized();
    if (!(await this.hasher.verify(user.passwordHash, dto.password))) {
      throw AuthErrors.wrongPassword();
    }
    await this.deleteAccount(auth, user.id);
  }

  /**
   * Soft-deletes the account of `userId` in one transaction, for the user themself
   * (DELETE /users/me) or for a back-office admin (the same rules):
   * - 409 `user.last_owner` when the user is the only owner of a team that has other members;
   * - 409 `billing.active_subscription` when the user is the only owner of a team whose
   *   subscription is live (trialing, active, past_due, unpaid, paused): cancel it first;
   * - DELETE_ACCOUNT is recorded first, against the user's first team, while the memberships
   *   still exist (no team: no row);
   * - memberships are removed; a team whose only member was this user stays, memberless,
   *   with its history and billing fields (nobody else could be its owner);
   * - every session ends and reset links stop working;
   * - `deletedAt` is set and the email is rewritten so the address can sign up again;
   * - by an admin: ADMIN_DELETE_USER (the admin as userId) against each team the user left.
   */
  async deleteAccount(actor: Actor, userId: number): Promise<void> {
    this.access.requireAccountWrite(actor);
    await this.txHost.transaction(async () => {
      const now = new Date();
      if (!(await this.users.findActiveById(userId))) {
        throw AuthErrors.unauthorized('The account no longer exists');
      }
      const soleOwned = await this.teams.lockSoleOwnedTeams(userId);
      const blocking = soleOwned.filter((t) => t.hasOtherMembers).map((t) => t.team.id);
      if (blocking.length > 0) {
        throw UserErrors.lastOwner(
          undefined,
          blocking.map((teamId) => ({ field: 'teamId', message: String(teamId) })),
        );
      }
      await this.billing.assertNoSoleOwnedLiveSubscription(userId);
      // In the account's own history, whoever deleted it.
      await this.audit.recordFor(actor, { action: ActivityType.DELETE_ACCOUNT, userId });
      const left = await this.teams.removeAllMembershipsOf(userId);
      if (actor.kind === 'admin') {
        for (const teamId of left) {
          await this.audit.recordFor(actor, { action: ActivityType.ADMIN_DELETE_USER, teamId });
        }
      }
      await this.sessions.revokeAllForUser(userId, 'account_deleted');
      await this.resets.invalidateAllForUser(userId, now);
      const deleted = await this.users.update(
        userId,
        { deletedAt: now, email: deletedEmail(userId) },
        now,
      );
      if (!deleted) throw AuthErrors.unauthorized('The account no longer exists');
    });
  }
}
