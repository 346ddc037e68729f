import { Injectable } from '@nestjs/common';
import type { Actor, AdminActor, UserActor } from '../../common/auth/actor.js';
import { decodeIdCursor, encodeIdCursor, toPage, type Page } from '../../common/http/pagination.js';
import { ActivityType, type PlanLimits, type Team, type TeamRole } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { AuditService, type FeedRow } from '../audit/audit.service.js';
import { WebhooksService } from '../webhooks/webhooks.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import { AccessService } from '../access/access.service.js';
import { samePlanLimits } from '../plans/plan-limits.js';
import { PlansService } from '../plans/plans.service.js';
import type { Standing, TeamAction } from '../access/access.policy.js';
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
import { TeamErrors } from './teams.errors.js';
import { SEAT_SYNC_JOB, type SeatSyncJob } from './seat-sync.js';
import {
  TeamsRepository,
  type BillingColumns,
  type Membership,
  type MemberWithUser,
  type OwnerRecipient,
  type SeatState,
  type SoleOwnedTeam,
  type TeamWithMembers,
} from './teams.repository.js';

export type {
  BillingColumns,
  Membership,
  OwnerRecipient,
  SeatState,
  SoleOwnedTeam,
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

function toDetailDto(team: TeamWithMembers): Omit<TeamDetailDto, 'plan'> {
  return { ...toTeamDto(team), teamMembers: team.teamMembers.map(toMemberDto) };
}

function toActivityDto(row: FeedRow): TeamActivityDto {
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

function enforce(verdict: MemberChangeVerdict): void {
  if (verdict === 'forbidden') {
    throw TeamErrors.forbidden('This action requires the team role "owner"');
  }
  if (verdict === 'last_owner') throw TeamErrors.lastOwner();
}

/**
 * Owns `teams` and `team_members`: every write to them, and the rules about them (roles, the
 * last owner), happen here. Operations a caller performs take the Actor first and ask the
 * access layer (AccessService); the methods without an Actor are primitives for other
 * modules' services (sign-up, invitations, account deletion, billing) that already decided.
 */
/**
 * Whether a change counts against the team's webhook event budget: the team's own management
 * (its owners, its API keys) does; the back office does not.
 */
function byTeam(actor: Actor): boolean {
  return actor.kind !== 'admin';
}

/** The standing of a team's directory (SCIM): an owner's powers, no membership of its own. */
const DIRECTORY: Standing = { id: null, role: 'owner' };

@Injectable()
export class TeamsService {
  constructor(
    private readonly txHost: TransactionHost,
    private readonly teams: TeamsRepository,
    private readonly access: AccessService,
    private readonly audit: AuditService,
    private readonly webhooks: WebhooksService,
    private readonly plans: PlansService,
    private readonly jobs: JobsService,
  ) {}

  async listMine(
    actor: UserActor,
    query: { limit: number; cursor?: string },
  ): Promise<Page<MyTeamDto>> {
    const afterId = decodeIdCursor(query.cursor);
    const rows = await this.teams.listForUser(actor.id, query.limit + 1, afterId);
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
  async create(actor: UserActor, dto: CreateTeamDto): Promise<TeamDetailDto> {
    const teamId = await this.txHost.transaction(async () => {
      const team = await this.insertTeamWithOwner(dto.name, actor.id);
      await this.audit.recordFor(actor, { action: ActivityType.CREATE_TEAM, teamId: team.id });
      return team.id;
    });
    return this.detail(teamId);
  }

  async get(actor: Actor, teamId: number): Promise<TeamDetailDto> {
    await this.access.requireTeam(actor, teamId, 'team.read');
    return this.detail(teamId);
  }

  /**
   * Renames the team and logs UPDATE_TEAM (ADMIN_UPDATE_TEAM for an admin) in the same
   * transaction. Renaming to the current name changes nothing and logs nothing.
   */
  async update(actor: Actor, teamId: number, dto: UpdateTeamDto): Promise<TeamDetailDto> {
    await this.txHost.transaction(async () => {
      const team = await this.teams.findByIdForUpdate(teamId);
      await this.access.requireTeam(actor, teamId, 'team.update');
      if (!team) throw TeamErrors.notFound();
      if (team.name === dto.name) return;
      const now = new Date();
      await this.teams.updateName(teamId, dto.name, now);
      await this.audit.recordFor(actor, { action: ActivityType.UPDATE_TEAM, teamId });
      await this.webhooks.emit(
        teamId,
        'team.updated',
        toTeamDto({ ...team, name: dto.name, updatedAt: now }),
        { counted: byTeam(actor) },
      );
    });
    return this.detail(teamId);
  }

  /**
   * Sets (or, with null, clears) the team's plan override, the limits of a deal made outside
   * Stripe that win over the product's and the free plan's, and logs ADMIN_UPDATE_TEAM in the
   * same transaction. Back office only (`plan.override`: support staff get 403). Setting the
   * override the team already has changes nothing and logs nothing. Lowering limits never
   * removes anything: it only stops new additions.
   */
  async setPlanOverride(
    actor: AdminActor,
    teamId: number,
    override: PlanLimits | null,
  ): Promise<void> {
    await this.txHost.transaction(async () => {
      const team = await this.teams.findByIdForUpdate(teamId);
      await this.access.requireTeam(actor, teamId, 'plan.override');
      if (!team) throw TeamErrors.notFound();
      if (samePlanLimits(team.planOverride, override)) return;
      await this.teams.setPlanOverride(teamId, override, new Date());
      await this.audit.recordFor(actor, { action: ActivityType.UPDATE_TEAM, teamId });
    });
  }

  /**
   * Adds a user to a team directly (the back office; API users join by invitation) and logs
   * ADMIN_ADD_TEAM_MEMBER, in one transaction. Undefined when the user already belongs.
   */
  async addMember(
    actor: AdminActor,
    teamId: number,
    member: { userId: number; role: TeamRole },
  ): Promise<Membership | undefined> {
    return this.txHost.transaction(async () => {
      await this.access.requireTeam(actor, teamId, 'members.add');
      if (!(await this.teams.lockTeam(teamId))) throw TeamErrors.notFound();
      const created = await this.teams.insertMember({ teamId, ...member });
      if (!created) return undefined;
      await this.membershipsChanged([teamId]);
      await this.audit.recordFor(actor, { action: ActivityType.ADMIN_ADD_TEAM_MEMBER, teamId });
      await this.webhooks.emit(teamId, 'member.added', await this.memberDto(teamId, created.id), {
        counted: false,
      });
      return created;
    });
  }

  /**
   * Changes a member's role and logs UPDATE_TEAM_MEMBER (by the caller; ADMIN_UPDATE_TEAM_MEMBER
   * for an admin) in one transaction. The last owner is never demoted, by anyone; a team API
   * key never grants `owner` (api_key.role_forbidden).
   */
  async updateMemberRole(
    actor: Actor,
    teamId: number,
    memberId: number,
    dto: UpdateMemberRoleDto,
  ): Promise<TeamMemberDto> {
    await this.txHost.transaction(async () => {
      const { standing, target, owners } = await this.lockForMemberChange(
        actor,
        teamId,
        memberId,
        'members.update',
        dto.role,
      );
      enforce(canChangeRole(standing, target, dto.role, owners));
      // Setting the role a member already has changes nothing and logs nothing.
      if (target.role === dto.role) return;
      await this.teams.updateMemberRole(teamId, memberId, dto.role);
      await this.audit.recordFor(actor, { action: ActivityType.UPDATE_TEAM_MEMBER, teamId });
      await this.webhooks.emit(
        teamId,
        'member.role_changed',
        await this.memberDto(teamId, memberId),
        { counted: byTeam(actor) },
      );
    });
    return this.memberDto(teamId, memberId);
  }

  /**
   * Owners (and admins, keys with `members:write`) remove anyone; a member may remove themself
   * (leave). Never the last owner.
   */
  async removeMember(actor: Actor, teamId: number, memberId: number): Promise<void> {
    await this.txHost.transaction(async () => {
      const { standing, target, owners } = await this.lockForMemberChange(
        actor,
        teamId,
        memberId,
        'members.remove',
      );
      enforce(canRemoveMember(standing, target, owners));
      const removed = await this.memberDto(teamId, memberId);
      await this.teams.deleteMember(teamId, memberId);
      await this.membershipsChanged([teamId]);
      await this.audit.recordFor(actor, { action: ActivityType.REMOVE_TEAM_MEMBER, teamId });
      // A member leaving is not the team's doing: never refused for its event budget.
      const leaving = actor.kind === 'user' && removed.userId === actor.id;
      await this.webhooks.emit(teamId, 'member.removed', removed, {
        counted: byTeam(actor) && !leaving,
      });
    });
  }

  /** The team's activity: the audit module's one feed, scoped to the team. */
  async listActivity(
    actor: Actor,
    teamId: number,
    query: TeamActivityQueryDto,
  ): Promise<Page<TeamActivityDto>> {
    await this.access.requireTeam(actor, teamId, 'activity.read');
    const page = await this.audit.feed({ teamId }, query);
    return { ...page, items: page.items.map(toActivityDto) };
  }

  // Primitives for other modules' services (no Actor: their caller decided already).

  /** A new team and its owner's membership (sign-up, POST /teams); joins the caller's transaction. */
  async insertTeamWithOwner(name: string, userId: number): Promise<Team> {
    const team = await this.teams.insertTeam(name);
    await this.teams.insertMember({ teamId: team.id, userId, role: 'owner' });
    return team;
  }

  findTeam(teamId: number): Promise<Team | undefined> {
    return this.teams.findById(teamId);
  }

  /** The team row, locked until the surrounding transaction ends. */
  findTeamForUpdate(teamId: number): Promise<Team | undefined> {
    return this.teams.findByIdForUpdate(teamId);
  }

  /** The teams a user belongs to: where a back-office action on the user is logged. */
  teamIdsOfUser(userId: number): Promise<number[]> {
    return this.teams.teamIdsOfUser(userId);
  }

  /** The team a membership id belongs to (the back office addresses memberships by id). */
  teamIdOfMember(memberId: number): Promise<number | undefined> {
    return this.teams.teamIdOfMember(memberId);
  }

  /** Whether an active user with this email belongs to the team (invitations). */
  hasMemberWithEmail(teamId: number, email: string): Promise<boolean> {
    return this.teams.hasMemberWithEmail(teamId, email);
  }

  /**
   * Joins the user to the team with `role`, or returns the membership they already have, in
   * the caller's transaction (or one of its own). Every way into a team goes through here
   * (accepting an invitation, sign-up with an invite token, SAML and SCIM provisioning), and
   * so does the plan's member limit: a new member past `max_members` is 402
   * `plan.limit_reached` (the team row is locked, then the members counted: concurrent joins
   * cannot overshoot).
   */
  join(teamId: number, userId: number, role: TeamRole): Promise<Membership> {
    // Joins the caller's transaction; opens one when called outside any, so the team lock of
    // the limit check always holds until the membership is written.
    return this.txHost.transaction(async () => {
      const existing = await this.teams.findMembership(teamId, userId);
      if (existing) return existing;
      await this.plans.assertRoom(teamId, 'members');
      const inserted = await this.teams.insertMember({ teamId, userId, role });
      // A new member is an event for the team's webhooks (in the caller's transaction).
      if (inserted) {
        await this.membershipsChanged([teamId]);
        // Someone joining (an accepted invitation) is not the team's doing: never refused for it.
        await this.webhooks.emit(
          teamId,
          'member.added',
          await this.memberDto(teamId, inserted.id),
          { counted: false },
        );
        return inserted;
      }
      const membership = await this.teams.findMembership(teamId, userId);
      if (!membership) throw new Error('membership neither inserted nor found');
      return membership;
    });
  }

  /**
   * Removes a user's membership for a directory (SCIM deprovisioning), inside the caller's
   * transaction: the team row is locked, the last owner is never removed (409
   * `team.last_owner`), `member.removed` is emitted. False when the user was not a member.
   * No Actor: the SCIM service decided (its token is the team's directory) and logs it.
   */
  async removeMembershipOf(teamId: number, userId: number): Promise<boolean> {
    if (!(await this.teams.lockTeam(teamId))) throw TeamErrors.notFound();
    const membership = await this.teams.findMembership(teamId, userId);
    if (!membership) return false;
    enforce(canRemoveMember(DIRECTORY, membership, await this.teams.countOwners(teamId)));
    const removed = await this.memberDto(teamId, membership.id);
    await this.teams.deleteMember(teamId, membership.id);
    await this.membershipsChanged([teamId]);
    await this.webhooks.emit(teamId, 'member.removed', removed, { counted: false });
    return true;
  }

  /**
   * Gives a member `role` for a directory (SCIM's owner group), inside the caller's
   * transaction; the team never loses its last owner (409 `team.last_owner`). False when the
   * user is not a member or already has the role.
   */
  async setRoleOf(teamId: number, userId: number, role: TeamRole): Promise<boolean> {
    if (!(await this.teams.lockTeam(teamId))) throw TeamErrors.notFound();
    const membership = await this.teams.findMembership(teamId, userId);
    if (!membership || membership.role === role) return false;
    enforce(canChangeRole(DIRECTORY, membership, role, await this.teams.countOwners(teamId)));
    await this.teams.updateMemberRole(teamId, membership.id, role);
    await this.webhooks.emit(
      teamId,
      'member.role_changed',
      await this.memberDto(teamId, membership.id),
      { counted: false },
    );
    return true;
  }

  private async memberDto(teamId: number, memberId: number): Promise<TeamMemberDto> {
    const member = await this.teams.findMemberWithUser(teamId, memberId);
    if (!member) throw TeamErrors.memberNotFound();
    return toMemberDto(member);
  }

  /**
   * For account deletion, inside its transaction: locks the user's teams (in id order, so a
   * concurrent role change or removal cannot slip in) and returns the teams the user owns
   * alone, each with whether anyone else belongs to it.
   */
  async lockSoleOwnedTeams(userId: number): Promise<SoleOwnedTeam[]> {
    await this.teams.lockTeamsOfUser(userId);
    return this.teams.soleOwnedTeams(userId);
  }

  /** Teams the user is the only owner of (no lock): billing's deletion rule reads these. */
  soleOwnedTeams(userId: number): Promise<SoleOwnedTeam[]> {
    return this.teams.soleOwnedTeams(userId);
  }

  /** Removes every membership of the user (account deletion); returns the teams left. */
  async removeAllMembershipsOf(userId: number): Promise<number[]> {
    const left = await this.teams.deleteMembershipsOfUser(userId);
    await this.membershipsChanged(left);
    return left;
  }

  /**
   * The one place every membership write goes through after it changed a team's members (join,
   * accepted invitation, sign-up with an invite, leave, remove, the back office's add/remove,
   * account deletion, and whatever later calls `join`/`removeMember`: SCIM, SAML). In the
   * caller's transaction: raises the team's `membership_version`, and for a team billed per
   * seat queues the seat sync, which sends the member count to Stripe after commit, retried
   * by the queue; the request never waits for Stripe. A new team (insertTeamWithOwner) has no
   * subscription yet and skips this.
   */
  private async membershipsChanged(teamIds: readonly number[]): Promise<void> {
    for (const team of await this.teams.bumpMembershipVersion(teamIds)) {
      if (!team.perSeat || team.stripeSubscriptionItemId === null) continue;
      await this.jobs.enqueue<SeatSyncJob>(SEAT_SYNC_JOB, { teamId: team.id });
    }
  }

  // Primitives for billing (no Actor: billing decided; teams owns the row).

  /** A team's seat state and member count, read in one statement. */
  seatState(teamId: number): Promise<SeatState | undefined> {
    return this.teams.seatState(teamId);
  }

  /** Records Stripe's confirmed quantity for `version`; false when a newer one is recorded. */
  recordSeatsBilled(teamId: number, quantity: number, version: number): Promise<boolean> {
    return this.teams.recordSeatsBilled(teamId, quantity, version);
  }

  /** Stores the team's entitlement lookup keys as of Stripe's `asOf`; false when older. */
  setFeatures(
    teamId: number,
    features: readonly string[],
    asOf: number,
    now: Date,
  ): Promise<boolean> {
    return this.teams.setFeatures(teamId, features, asOf, now);
  }

  /** The team's owners (address and language) for billing mails. */
  ownerRecipients(teamId: number): Promise<OwnerRecipient[]> {
    return this.teams.ownerRecipients(teamId);
  }

  /** Queues the seat sync for a per-seat team now (checkout completed, plan changed). */
  async queueSeatSync(teamId: number): Promise<void> {
    await this.jobs.enqueue<SeatSyncJob>(SEAT_SYNC_JOB, { teamId });
  }

  /** The team of a Stripe customer, locked until the surrounding transaction ends. */
  findTeamByStripeCustomerForUpdate(customerId: string): Promise<Team | undefined> {
    return this.teams.findByStripeCustomerForUpdate(customerId);
  }

  findTeamIdByStripeCustomer(customerId: string): Promise<number | undefined> {
    return this.teams.findIdByStripeCustomer(customerId);
  }

  /**
   * Writes the billing columns of a team row. Teams owns the row; billing decides the values
   * (from Stripe) and writes them only through here.
   */
  setBilling(teamId: number, fields: BillingColumns, now: Date): Promise<void> {
    return this.teams.setBilling(teamId, fields, now);
  }

  private async detail(teamId: number): Promise<TeamDetailDto> {
    const team = await this.teams.findWithMembers(teamId);
    if (!team) throw TeamErrors.notFound();
    // The row carries the plan columns: no second read of the team for its plan.
    return { ...toDetailDto(team), plan: this.plans.summaryOf(team, team.teamMembers.length) };
  }

  /**
   * Locks the team row, then re-reads the caller's standing (through the access layer) and
   * the target's membership and the owner count: the guard's earlier read may be stale by the
   * time a concurrent change committed. `grants`: the role the change gives the target.
   */
  private async lockForMemberChange(
    actor: Actor,
    teamId: number,
    memberId: number,
    action: TeamAction,
    grants?: TeamRole,
  ): Promise<{ standing: Standing; target: Membership; owners: number }> {
    const locked = await this.teams.lockTeam(teamId);
    const standing = await this.access.requireTeam(actor, teamId, action, { grants });
    if (!locked) throw actor.kind === 'admin' ? TeamErrors.memberNotFound() : TeamErrors.notFound();
    const target = await this.teams.findMember(teamId, memberId);
    if (!target) throw TeamErrors.memberNotFound();
    const owners = await this.teams.countOwners(teamId);
    return { standing, target, owners };
  }
}
