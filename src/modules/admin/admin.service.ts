import { Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import type { AdminActor } from '../../common/auth/actor.js';
import { flatten } from '../../common/http/validation.pipe.js';
import { parseId } from '../../common/ids.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { AccountService } from '../auth/account.service.js';
import { AdminSetPasswordDto } from '../auth/auth.dto.js';
import { CredentialsService } from '../auth/credentials.service.js';
import { EmailVerificationService } from '../auth/email-verification.service.js';
import { AdminDisableMfaDto } from '../auth/mfa.dto.js';
import { MfaService } from '../auth/mfa.service.js';
import { SessionsService } from '../auth/sessions.service.js';
import { InvitationsService } from '../invitations/invitations.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import type { JobState } from '../jobs/jobs.types.js';
import { TeamErrors } from '../teams/teams.errors.js';
import { TeamsService } from '../teams/teams.service.js';
import { parsePlanOverride } from '../plans/plan-limits.js';
import { PlansService } from '../plans/plans.service.js';
import { UpdateMemberRoleDto, UpdateTeamDto } from '../teams/teams.dto.js';
import { AdminUpdateUserDto } from '../users/users.dto.js';
import { UsersService } from '../users/users.service.js';
import { AdminRepository, type AdminStats, type DashboardCharts } from './admin.repository.js';
import { AdminErrors } from './admin.errors.js';

/** What GET /admin/api/dashboard answers: the key numbers plus the charts' series. */
export interface AdminDashboard extends AdminStats {
  charts: DashboardCharts & {
    /** Jobs per queue and pg-boss state (`created`/`retry` = waiting). */
    jobs: { queue: string; state: JobState; count: number }[];
  };
}

export interface AdminUserPatch {
  name?: string;
  email?: string;
  role?: string;
}

/**
 * Runs the API's DTO class over a form's values with the API's validation options
 * (createValidationPipe): the same rules, reported as `admin.invalid_input` field errors.
 */
async function validated<T extends object>(
  type: new () => T,
  input: Record<string, unknown>,
): Promise<T> {
  const dto = plainToInstance(type, input, { enableImplicitConversion: false });
  const errors = await validate(dto, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
  });
  if (errors.length > 0) {
    const details = flatten(errors);
    throw AdminErrors.invalidInput(details[0]?.message ?? 'Invalid input', details);
  }
  return dto;
}

/** Keeps only the fields the form filled (AdminJS posts every field, unset ones absent). */
function present(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
}

/**
 * The admin panel's actions: each turns an AdminJS form into a call to the service that owns
 * the data, as an AdminActor, after the API's DTO validation. The rules (last owner, account
 * deletion, password rules) and the activity rows (the ADMIN_* types, see audit-policy.ts) are
 * the owning services'; nothing here writes a row itself.
 */
@Injectable()
export class AdminService {
  constructor(
    private readonly txHost: TransactionHost,
    private readonly admins: AdminRepository,
    private readonly users: UsersService,
    private readonly teams: TeamsService,
    private readonly invitations: InvitationsService,
    private readonly credentials: CredentialsService,
    private readonly account: AccountService,
    private readonly jobs: JobsService,
    private readonly verification: EmailVerificationService,
    private readonly sessions: SessionsService,
    private readonly mfa: MfaService,
    private readonly plans: PlansService,
  ) {}

  stats(): Promise<AdminStats> {
    return this.admins.stats(new Date());
  }

  /** The dashboard's figures: every one an aggregate computed by PostgreSQL. */
  async dashboard(now = new Date()): Promise<AdminDashboard> {
    const [stats, daily, segments, jobs] = await Promise.all([
      this.admins.stats(now),
      this.admins.daily(now),
      this.admins.teamSegments(),
      this.jobs.stateCounts(),
    ]);
    return { ...stats, charts: { daily, ...segments, jobs } };
  }

  async updateTeam(admin: AdminActor, teamId: number, name: unknown): Promise<void> {
    const dto = await validated(UpdateTeamDto, { name });
    await this.teams.update(admin, teamId, dto);
  }

  /** The team page's plan section (admins and support staff). */
  teamPlan(admin: AdminActor, teamId: number) {
    return this.plans.backOfficeView(admin, teamId);
  }

  /**
   * Sets the team's plan override from the form's JSON (`{"max_members": 10, ...}`, the
   * product-metadata keys, each a whole number or null for unlimited), or clears it when the
   * text is empty. Admins only (support staff: 403); logs ADMIN_UPDATE_TEAM.
   */
  async setPlanOverride(admin: AdminActor, teamId: number, text: unknown): Promise<void> {
    const parsed = parsePlanOverride(typeof text === 'string' ? text : '');
    if (!parsed.ok) {
      throw AdminErrors.invalidInput(`planOverride ${parsed.message}`, [
        { field: 'planOverride', message: parsed.message },
      ]);
    }
    await this.teams.setPlanOverride(admin, teamId, parsed.limits);
  }

  async addMember(
    admin: AdminActor,
    input: { teamId: unknown; userId: unknown; role: unknown },
  ): Promise<number> {
    const teamId = toId(input.teamId, 'teamId');
    const userId = toId(input.userId, 'userId');
    const { role } = await validated(UpdateMemberRoleDto, { role: input.role });
    return this.txHost.transaction(async () => {
      if (!(await this.users.findActiveById(userId))) throw AdminErrors.userDeleted();
      const member = await this.teams.addMember(admin, teamId, { userId, role });
      if (!member) throw AdminErrors.alreadyMember();
      return member.id;
    });
  }

  async updateMemberRole(admin: AdminActor, memberId: number, role: unknown): Promise<void> {
    const dto = await validated(UpdateMemberRoleDto, { role });
    await this.teams.updateMemberRole(admin, await this.teamOfMember(memberId), memberId, dto);
  }

  async removeMember(admin: AdminActor, memberId: number): Promise<void> {
    await this.teams.removeMember(admin, await this.teamOfMember(memberId), memberId);
  }

  /** The owners' revoke, by an admin (ADMIN_REVOKE_INVITATION); answered ones are a 409. */
  async revokeInvitation(admin: AdminActor, teamId: number, invitationId: number): Promise<void> {
    await this.invitations.revokeAsOwner(admin, teamId, invitationId);
  }

  /**
   * Name, email and system role of an active account. Not team data: no activity row. A new
   * address is unverified, and the password-reset links mailed to the old one stop working.
   */
  async updateUser(admin: AdminActor, userId: number, patch: AdminUserPatch): Promise<void> {
    // An emptied name field clears the name, as PATCH /users/me with `name: null` does.
    const name = patch.name === undefined ? undefined : patch.name.trim() || null;
    const dto = await validated(
      AdminUpdateUserDto,
      present({ name, email: patch.email, role: patch.role }),
    );
    // Keeps at least the acting admin able to come back into the panel.
    if (userId === admin.id && dto.role !== undefined && dto.role !== 'admin') {
      throw AdminErrors.selfDemotion();
    }
    await this.txHost.transaction(async () => {
      const before = await this.users.lockActiveById(userId);
      const after = before && (await this.users.updateByAdmin(admin, userId, dto));
      if (!before || !after) throw AdminErrors.userDeleted();
      // Reset links went to the old address, whose reader no longer speaks for the account.
      if (after.email !== before.email) await this.credentials.retireResetLinks(userId);
    });
  }

  /** The API's password rules (auth module); every session of the user is revoked. */
  async setPassword(admin: AdminActor, userId: number, password: unknown): Promise<void> {
    const dto = await validated(AdminSetPasswordDto, { password });
    if (!(await this.users.findActiveById(userId))) throw AdminErrors.userDeleted();
    await this.credentials.setPasswordByAdmin(admin, userId, dto.password);
  }

  /**
   * The API's soft delete (auth module, same rules as DELETE /users/me: 409 `user.last_owner`,
   * memberships removed, sessions revoked, email freed), logged ADMIN_DELETE_USER against
   * each team the user left.
   */
  async deleteUser(admin: AdminActor, userId: number): Promise<void> {
    if (userId === admin.id) throw AdminErrors.selfDemotion();
    if (!(await this.users.findActiveById(userId))) throw AdminErrors.userDeleted();
    await this.account.deleteAccount(admin, userId);
  }

  /** Support action: a fresh verification link for an unverified email (auth module's rules). */
  async resendVerification(admin: AdminActor, userId: number): Promise<void> {
    await this.verification.resendByAdmin(admin, userId);
  }

  /** Support action: ends every session of the user; returns how many ended. */
  revokeSessions(admin: AdminActor, userId: number): Promise<number> {
    return this.sessions.revokeAllByAdmin(admin, userId);
  }

  /**
   * Support action: switches the user's MFA off after an identity check; `reason` (10 to 500
   * characters, trimmed) is required and logged with ADMIN_DISABLE_MFA.
   */
  async disableMfa(admin: AdminActor, userId: number, reason: unknown): Promise<void> {
    const dto = await validated(AdminDisableMfaDto, { reason });
    await this.mfa.disableByAdmin(admin, userId, dto.reason);
  }

  private async teamOfMember(memberId: number): Promise<number> {
    const teamId = await this.teams.teamIdOfMember(memberId);
    if (teamId === undefined) throw TeamErrors.memberNotFound();
    return teamId;
  }
}

function toId(value: unknown, field: string): number {
  const id = parseId(value);
  if (id === undefined) {
    throw AdminErrors.invalidInput(`${field} must be a record id`, [
      { field, message: 'must be a record id' },
    ]);
  }
  return id;
}
