import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../../common/auth/auth-user.js';
import {
  decodeFeedCursor,
  decodeIdCursor,
  encodeFeedCursor,
  encodeIdCursor,
  toPage,
  type Page,
} from '../../common/http/pagination.js';
import { CommonErrors } from '../../common/errors/common.errors.js';
import { ActivityType, type Team } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { AuditService } from '../audit/audit.service.js';
import { WebhooksService } from '../webhooks/webhooks.service.js';
import { canChangeRole, canRemoveMember, type MemberChangeVerdict } from './team-roles.js';
import type {
  CreateTeamDto,
  MyTeamDto,
  TeamActivityDto,
  TeamActivityQueryDto,
  TeamDetailDto,
  TeamDto,
  TeamMemberDto,
  UpdateMemberRoleDto,
  UpdateTeamDto,
} from './teams.dto.js';
import { CALENDAR_DATE_TIME } from './teams.dto.js';
import { TeamErrors } from './teams.errors.js';
import {
  TeamsRepository,
  type ActivityRow,
  type Membership,
  type MemberWithUser,
  type TeamWithMembers,
} from './teams.repository.js';

export function toTeamDto(team: Team): TeamDto {
  return {
    id: team.id,
    name: team.name,
    createdAt: team.createdAt,
    updatedAt: team.updatedAt,
    stripeCustomerId: team.stripeCustomerId,
    stripeSubscriptionId: team.stripeSubscriptionId,
    stripeProductId: team.stripeProductId,
    planName: team.planName,
    subscriptionStatus: team.subscriptionStatus,
  };
}

export function toMemberDto(member: MemberWithUser): TeamMemberDto {
  return {
    id: member.id,
    teamId: member.teamId,
    userId: member.userId,
    role: member.role,
    joinedAt: member.joinedAt,
    user: { id: member.user.id, name: member.user.name, email: member.user.email },
  };
}

function toDetailDto(team: TeamWithMembers): TeamDetailDto {
  return { ...toTeamDto(team), teamMembers: team.teamMembers.map(toMemberDto) };
}

function toActivityDto(row: ActivityRow): TeamActivityDto {
  return {
    id: row.id,
    action: row.action as ActivityType,
    timestamp: row.timestamp,
    ipAddress: row.ipAddress,
    userId: row.userId,
    user:
      row.userId === null || row.userEmail === null
        ? null
        : { id: row.userId, name: row.userName, email: row.userEmail },
  };
}

/**
 * An ISO-8601 filter value as a Date. The DTO checks ISO syntax, but ISO also has week and
 * ordinal dates (`2024-W01-1`, `2024-012`) that Date rejects or misreads, and year 0 is not a
 * PostgreSQL timestamp: only calendar date(-time)s Date can read are taken, anything else is a
 * 400 here, never a driver error.
 */
function instant(raw: string | undefined, field: string): Date | undefined {
  if (raw === undefined) return undefined;
  const date = new Date(raw);
  if (!CALENDAR_DATE_TIME.test(raw) || Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1) {
    throw CommonErrors.validation('Invalid request', [
      {
        field,
        message: `${field} must be an ISO-8601 calendar date or date-time (e.g. 2030-01-31T12:00:00Z)`,
      },
    ]);
  }
  return date;
}

function enforce(verdict: MemberChangeVerdict): void {
  if (verdict === 'forbidden') {
    throw TeamErrors.forbidden('This action requires the team role "owner"');
  }
  if (verdict === 'last_owner') throw TeamErrors.lastOwner();
}

@Injectable()
export class TeamsService {
  constructor(
    private readonly txHost: TransactionHost,
    private readonly teams: TeamsRepository,
    private readonly audit: AuditService,
    private readonly webhooks: WebhooksService,
  ) {}

  async listMine(
    auth: AuthUser,
    query: { limit: number; cursor?: string },
  ): Promise<Page<MyTeamDto>> {
    const afterId = decodeIdCursor(query.cursor);
    const rows = await this.teams.listForUser(auth.id, query.limit + 1, afterId);
    return toPage(
      rows,
      query.limit,
      ({ team, membership }) => ({
        ...toTeamDto(team),
        role: membership.role,
        memberId: membership.id,
        joinedAt: membership.joinedAt,
      }),
      ({ membership }) => encodeIdCursor(membership.id),
    );
  }

  /** A new team with the caller as its owner, and the CREATE_TEAM row, in one transaction. */
  async create(auth: AuthUser, dto: CreateTeamDto): Promise<TeamDetailDto> {
    const teamId = await this.txHost.transaction(async () => {
      const team = await this.teams.insertTeam(dto.name);
      await this.teams.insertMember({ teamId: team.id, userId: auth.id, role: 'owner' });
      await this.audit.record({
        action: ActivityType.CREATE_TEAM,
        userId: auth.id,
        teamId: team.id,
        ipAddress: auth.ip,
      });
      return team.id;
    });
    return this.get(auth, teamId);
  }

  async get(_auth: AuthUser, teamId: number): Promise<TeamDetailDto> {
    const team = await this.teams.findWithMembers(teamId);
    if (!team) throw TeamErrors.notFound();
    return toDetailDto(team);
  }

  /**
   * Renames the team and logs UPDATE_TEAM in the same transaction. Renaming to the current
   * name changes nothing and logs nothing.
   */
  async update(auth: AuthUser, teamId: number, dto: UpdateTeamDto): Promise<TeamDetailDto> {
    await this.txHost.transaction(async () => {
      const team = await this.teams.findByIdForUpdate(teamId);
      if (!team) throw TeamErrors.notFound();
      if (team.name === dto.name) return;
      const now = new Date();
      await this.teams.updateName(teamId, dto.name, now);
      await this.audit.record({
        action: ActivityType.UPDATE_TEAM,
        userId: auth.id,
        teamId,
        ipAddress: auth.ip,
      });
      await this.webhooks.emit(
        teamId,
        'team.updated',
        toTeamDto({ ...team, name: dto.name, updatedAt: now }),
      );
    });
    return this.get(auth, teamId);
  }

  /** Changes a member's role and logs UPDATE_TEAM_MEMBER (by the caller) in one transaction. */
  async updateMemberRole(
    auth: AuthUser,
    teamId: number,
    memberId: number,
    dto: UpdateMemberRoleDto,
  ): Promise<TeamMemberDto> {
    await this.txHost.transaction(async () => {
      const { actor, target, owners } = await this.lockForMemberChange(auth, teamId, memberId);
      enforce(canChangeRole(actor, target, dto.role, owners));
      // Setting the role a member already has changes nothing and logs nothing.
      if (target.role === dto.role) return;
      await this.teams.updateMemberRole(teamId, memberId, dto.role);
      await this.audit.record({
        action: ActivityType.UPDATE_TEAM_MEMBER,
        userId: auth.id,
        teamId,
        ipAddress: auth.ip,
      });
      await this.webhooks.emit(
        teamId,
        'member.role_changed',
        await this.memberDto(teamId, memberId),
      );
    });
    return this.memberDto(teamId, memberId);
  }

  /** Owners remove anyone; a member may remove themself (leave). Never the last owner. */
  async removeMember(auth: AuthUser, teamId: number, memberId: number): Promise<void> {
    await this.txHost.transaction(async () => {
      const { actor, target, owners } = await this.lockForMemberChange(auth, teamId, memberId);
      enforce(canRemoveMember(actor, target, owners));
      const removed = await this.memberDto(teamId, memberId);
      await this.teams.deleteMember(teamId, memberId);
      await this.audit.record({
        action: ActivityType.REMOVE_TEAM_MEMBER,
        userId: auth.id,
        teamId,
        ipAddress: auth.ip,
      });
      await this.webhooks.emit(teamId, 'member.removed', removed);
    });
  }

  async listActivity(
    _auth: AuthUser,
    teamId: number,
    query: TeamActivityQueryDto,
  ): Promise<Page<TeamActivityDto>> {
    const cursor = decodeFeedCursor(query.cursor);
    const from = instant(query.from, 'from');
    const to = instant(query.to, 'to');
    if (from !== undefined && to !== undefined && to.getTime() <= from.getTime()) {
      throw CommonErrors.validation('Invalid request', [
        { field: 'to', message: 'to must be later than from (the range is [from, to))' },
      ]);
    }
    const rows = await this.teams.listActivity(
      teamId,
      { action: query.action, userId: query.userId, from, to },
      query.limit + 1,
      cursor,
    );
    return toPage(rows, query.limit, toActivityDto, (row) =>
      encodeFeedCursor({ at: row.cursorAt, id: row.id }),
    );
  }

  private async memberDto(teamId: number, memberId: number): Promise<TeamMemberDto> {
    const member = await this.teams.findMemberWithUser(teamId, memberId);
    if (!member) throw TeamErrors.memberNotFound();
    return toMemberDto(member);
  }

  /**
   * Locks the team row, then re-reads the caller's and the target's memberships and the owner
   * count: the guard's earlier read may be stale by the time a concurrent change committed.
   */
  private async lockForMemberChange(
    auth: AuthUser,
    teamId: number,
    memberId: number,
  ): Promise<{ actor: Membership; target: Membership; owners: number }> {
    if (!(await this.teams.lockTeam(teamId))) throw TeamErrors.notFound();
    const actor = await this.teams.findMembership(teamId, auth.id);
    if (!actor) throw TeamErrors.notFound();
    const target = await this.teams.findMember(teamId, memberId);
    if (!target) throw TeamErrors.memberNotFound();
    const owners = await this.teams.countOwners(teamId);
    return { actor, target, owners };
  }
}
