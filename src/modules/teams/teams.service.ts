import { Injectable } from '@nestjs/common';
import { actorUserId, userActor, type Actor } from '../../common/auth/actor.js';
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
    return this.get(userActor(auth), teamId);
  }

  async get(_actor: Actor, teamId: number): Promise<TeamDetailDto> {
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
      await this.teams.updateName(teamId, dto.name, new Date());
      await this.audit.record({
        action: ActivityType.UPDATE_TEAM,
        userId: auth.id,
        teamId,
        ipAddress: auth.ip,
      });
    });
    return this.get(userActor(auth), teamId);
  }

  /**
   * Changes a member's role and logs UPDATE_TEAM_MEMBER (by the caller; for a team API key, its
   * creator) in one transaction.
   */
  async updateMemberRole(
    actor: Actor,
    teamId: number,
    memberId: number,
    dto: UpdateMemberRoleDto,
  ): Promise<TeamMemberDto> {
    await this.txHost.transaction(async () => {
      const { caller, target, owners } = await this.lockForMemberChange(actor, teamId, memberId);
      enforce(canChangeRole(caller, target, dto.role, owners));
      // Setting the role a member already has changes nothing and logs nothing.
      if (target.role === dto.role) return;
      await this.teams.updateMemberRole(teamId, memberId, dto.role);
      await this.audit.record({
        action: ActivityType.UPDATE_TEAM_MEMBER,
        userId: actorUserId(actor),
        teamId,
        ipAddress: actor.ip,
      });
    });
    const member = await this.teams.findMemberWithUser(teamId, memberId);
    if (!member) throw TeamErrors.memberNotFound();
    return toMemberDto(member);
  }

  /**
   * Owners remove anyone; a member may remove themself (leave); a team API key with
   * `members:write` removes anyone. Never the last owner.
   */
  async removeMember(actor: Actor, teamId: number, memberId: number): Promise<void> {
    await this.txHost.transaction(async () => {
      const { caller, target, owners } = await this.lockForMemberChange(actor, teamId, memberId);
      enforce(canRemoveMember(caller, target, owners));
      await this.teams.deleteMember(teamId, memberId);
      await this.audit.record({
        action: ActivityType.REMOVE_TEAM_MEMBER,
        userId: actorUserId(actor),
        teamId,
        ipAddress: actor.ip,
      });
    });
  }

  async listActivity(
    _actor: Actor,
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

  /**
   * Locks the team row, then re-reads the caller's and the target's memberships and the owner
   * count: the guard's earlier read may be stale by the time a concurrent change committed.
   * `caller` is null for a team API key: it is nobody's membership and acts with owner powers
   * within its `members:write` scope (the guard checked its team and scope).
   */
  private async lockForMemberChange(
    actor: Actor,
    teamId: number,
    memberId: number,
  ): Promise<{ caller: Membership | null; target: Membership; owners: number }> {
    if (!(await this.teams.lockTeam(teamId))) throw TeamErrors.notFound();
    let caller: Membership | null = null;
    if (actor.kind === 'user') {
      caller = (await this.teams.findMembership(teamId, actor.id)) ?? null;
      if (!caller) throw TeamErrors.notFound();
    } else if (actor.kind === 'apiKey' && actor.teamId !== teamId) {
      throw TeamErrors.notFound();
    }
    const target = await this.teams.findMember(teamId, memberId);
    if (!target) throw TeamErrors.memberNotFound();
    const owners = await this.teams.countOwners(teamId);
    return { caller, target, owners };
  }
}
