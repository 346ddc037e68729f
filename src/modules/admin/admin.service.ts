import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../common/crypto/password-hasher.js';
import { isUniqueViolation } from '../../common/errors/pg-errors.js';
import {
  ActivityType,
  SYSTEM_ROLES,
  TEAM_ROLES,
  type SystemRole,
  type TeamRole,
} from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { AuditService } from '../audit/audit.service.js';
import { AccountService } from '../auth/account.service.js';
import { CredentialsService } from '../auth/credentials.service.js';
import { InvitationsService } from '../invitations/invitations.service.js';
import { canChangeRole, canRemoveMember, type MembershipRef } from '../teams/team-roles.js';
import { TeamErrors } from '../teams/teams.errors.js';
import { TeamsRepository } from '../teams/teams.repository.js';
import { normalizeEmail } from '../../common/email.js';
import { parseId } from '../../common/ids.js';
import { UserErrors } from '../users/users.errors.js';
import { UsersRepository } from '../users/users.repository.js';
import { AdminRepository, type AdminStats } from './admin.repository.js';
import { AdminErrors } from './admin.errors.js';

/** The signed-in back-office user, as the panel's session holds it. */
export interface AdminPrincipal {
  id: number;
  email: string;
  /** The address the admin signed in from; recorded on the activity rows the admin causes. */
  ip: string | null;
}

export interface AdminUserPatch {
  name?: string | null;
  email?: string;
  role?: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * An admin acts on a team with an owner's powers without being a member; the team's own
 * invariants (never lose the last owner) still apply through the teams module's rules.
 */
const ADMIN_ACTOR: MembershipRef = { id: -1, userId: -1, role: 'owner' };

/**
 * Every change made from the admin panel. Each runs in one transaction with the activity row
 * it causes (userId = the admin, against the team concerned), and reuses the owning module's
 * repositories and rules instead of writing rows on its own.
 */
@Injectable()
export class AdminService {
  constructor(
    private readonly txHost: TransactionHost,
    private readonly admins: AdminRepository,
    private readonly users: UsersRepository,
    private readonly teams: TeamsRepository,
    private readonly invitations: InvitationsService,
    private readonly credentials: CredentialsService,
    private readonly account: AccountService,
    private readonly audit: AuditService,
  ) {}

  stats(): Promise<AdminStats> {
    return this.admins.stats(new Date());
  }

  async updateTeam(admin: AdminPrincipal, teamId: number, name: unknown): Promise<void> {
    const trimmed = typeof name === 'string' ? name.trim() : '';
    if (trimmed.length < 1 || trimmed.length > 100) {
      throw AdminErrors.invalidInput('Team name must be 1 to 100 characters', [
        { field: 'name', message: 'must be 1 to 100 characters' },
      ]);
    }
    await this.txHost.transaction(async () => {
      if (!(await this.teams.updateName(teamId, trimmed, new Date()))) throw TeamErrors.notFound();
      await this.record(admin, ActivityType.ADMIN_UPDATE_TEAM, teamId);
    });
  }

  async addMember(
    admin: AdminPrincipal,
    input: { teamId: unknown; userId: unknown; role: unknown },
  ): Promise<number> {
    const teamId = toId(input.teamId, 'teamId');
    const userId = toId(input.userId, 'userId');
    const role = toTeamRole(input.role);
    return this.txHost.transaction(async () => {
      if (!(await this.teams.lockTeam(teamId))) throw TeamErrors.notFound();
      if (!(await this.users.findActiveById(userId))) throw AdminErrors.userDeleted();
      const member = await this.teams.insertMember({ teamId, userId, role });
      if (!member) throw AdminErrors.alreadyMember();
      await this.record(admin, ActivityType.ADMIN_ADD_TEAM_MEMBER, teamId);
      return member.id;
    });
  }

  async updateMemberRole(admin: AdminPrincipal, memberId: number, role: unknown): Promise<void> {
    const next = toTeamRole(role);
    await this.txHost.transaction(async () => {
      const { teamId, target, owners } = await this.lockMember(memberId);
      if (canChangeRole(ADMIN_ACTOR, target, next, owners) === 'last_owner') {
        throw TeamErrors.lastOwner();
      }
      if (target.role === next) return;
      await this.teams.updateMemberRole(teamId, memberId, next);
      await this.record(admin, ActivityType.ADMIN_UPDATE_TEAM_MEMBER, teamId);
    });
  }

  async removeMember(admin: AdminPrincipal, memberId: number): Promise<void> {
    await this.txHost.transaction(async () => {
      const { teamId, target, owners } = await this.lockMember(memberId);
      if (canRemoveMember(ADMIN_ACTOR, target, owners) === 'last_owner') {
        throw TeamErrors.lastOwner();
      }
      await this.teams.deleteMember(teamId, memberId);
      await this.record(admin, ActivityType.ADMIN_REMOVE_TEAM_MEMBER, teamId);
    });
  }

  /** The owners' revoke (pending → revoked; answered invitations are a 409), by an admin. */
  async revokeInvitation(
    admin: AdminPrincipal,
    teamId: number,
    invitationId: number,
  ): Promise<void> {
    await this.txHost.transaction(async () => {
      await this.invitations.revoke(asAuthUser(admin), teamId, invitationId);
      await this.record(admin, ActivityType.ADMIN_REVOKE_INVITATION, teamId);
    });
  }

  /** Name, email and system role of an active account. Not team data: no activity row. */
  async updateUser(admin: AdminPrincipal, userId: number, patch: AdminUserPatch): Promise<void> {
    const email = patch.email === undefined ? undefined : normalizeEmail(patch.email);
    if (email !== undefined && (email.length > 255 || !EMAIL.test(email))) {
      throw AdminErrors.invalidInput('Invalid email address', [
        { field: 'email', message: 'must be a valid email address' },
      ]);
    }
    const name = patch.name === undefined ? undefined : patch.name?.trim() || null;
    if (name && name.length > 100) {
      throw AdminErrors.invalidInput('Name is too long', [
        { field: 'name', message: 'must be at most 100 characters' },
      ]);
    }
    let role: SystemRole | undefined;
    if (patch.role !== undefined) {
      if (!(SYSTEM_ROLES as readonly string[]).includes(patch.role)) {
        throw AdminErrors.invalidInput('Invalid role', [
          { field: 'role', message: `must be one of ${SYSTEM_ROLES.join(', ')}` },
        ]);
      }
      role = patch.role as SystemRole;
      // Keeps at least the acting admin able to come back into the panel.
      if (userId === admin.id && role !== 'admin') throw AdminErrors.selfDemotion();
    }
    try {
      await this.txHost.transaction(async () => {
        const now = new Date();
        const user = await this.users.update(userId, { name, email }, now);
        if (!user) throw AdminErrors.userDeleted();
        if (role !== undefined && role !== user.role) await this.admins.setRole(userId, role, now);
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw UserErrors.emailTaken(undefined, [{ field: 'email', message: 'is already in use' }]);
      }
      throw error;
    }
  }

  /**
   * The API's password rules (auth module): argon2id hash, reset links invalidated, every
   * session of the user revoked (reason `admin`), UPDATE_PASSWORD recorded.
   */
  async setPassword(admin: AdminPrincipal, userId: number, password: unknown): Promise<void> {
    if (
      typeof password !== 'string' ||
      password.length < PASSWORD_MIN_LENGTH ||
      password.length > PASSWORD_MAX_LENGTH
    ) {
      throw AdminErrors.invalidInput(
        `The password must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`,
        [{ field: 'password', message: 'invalid length' }],
      );
    }
    if (!(await this.users.findActiveById(userId))) throw AdminErrors.userDeleted();
    await this.credentials.setPassword(userId, password, { ipAddress: admin.ip, reason: 'admin' });
  }

  /**
   * The API's soft delete (auth module, same rules as DELETE /users/me: 409 `user.last_owner`,
   * memberships removed, sessions revoked, email freed), plus ADMIN_DELETE_USER against each
   * team the user left, in the same transaction.
   */
  async deleteUser(admin: AdminPrincipal, userId: number): Promise<void> {
    if (userId === admin.id) throw AdminErrors.selfDemotion();
    await this.txHost.transaction(async () => {
      if (!(await this.users.findActiveById(userId))) throw AdminErrors.userDeleted();
      const teamIds = await this.admins.teamIdsOfUser(userId);
      await this.account.deleteAccount(userId, { ipAddress: admin.ip });
      for (const teamId of teamIds)
        await this.record(admin, ActivityType.ADMIN_DELETE_USER, teamId);
    });
  }

  private async lockMember(memberId: number) {
    const teamId = await this.admins.findMemberTeamId(memberId);
    if (teamId === undefined || !(await this.teams.lockTeam(teamId))) {
      throw TeamErrors.memberNotFound();
    }
    // Re-read under the team lock: a concurrent change may have committed in between.
    const target = await this.teams.findMember(teamId, memberId);
    if (!target) throw TeamErrors.memberNotFound();
    const owners = await this.teams.countOwners(teamId);
    return { teamId, target, owners };
  }

  private async record(admin: AdminPrincipal, action: ActivityType, teamId: number): Promise<void> {
    await this.audit.record({ action, userId: admin.id, teamId, ipAddress: admin.ip });
  }
}

/** The admin as the principal that team-scoped services take (they use only id and ip). */
function asAuthUser(admin: AdminPrincipal): AuthUser {
  return {
    id: admin.id,
    email: admin.email,
    name: null,
    role: 'admin',
    // Back-office actions are not gated by the admin's own email verification.
    emailVerified: true,
    sessionId: '',
    ip: admin.ip,
  };
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

function toTeamRole(value: unknown): TeamRole {
  if (typeof value !== 'string' || !(TEAM_ROLES as readonly string[]).includes(value)) {
    throw AdminErrors.invalidInput('Invalid team role', [
      { field: 'role', message: `must be one of ${TEAM_ROLES.join(', ')}` },
    ]);
  }
  return value as TeamRole;
}
