import { Injectable } from '@nestjs/common';
import type { Actor, AdminActor } from '../../common/auth/actor.js';
import type { PlanLimits } from '../../database/schema.js';
import { AppConfig } from '../../config/app-config.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { AccessErrors } from '../access/access.errors.js';
import { AccessService } from '../access/access.service.js';
import { invitationExpiryCutoff } from './invitation-expiry.js';
import {
  decideRoom,
  effectiveLimits,
  hasLiveSubscription,
  LIMIT_OF,
  type EffectiveLimits,
  type LimitsSource,
  type Resource,
} from './plan-limits.js';
import { PlanErrors } from './plans.errors.js';
import type { PlanUsageDto, PlanViewDto, TeamPlanDto } from './plans.dto.js';
import { PlansRepository, type TeamPlanRow } from './plans.repository.js';

/**
 * What a limit check counts: `members` (a join: members + 1 ≤ max_members), `invitations`
 * (a new invitation: members + pending invitations + 1 ≤ max_members), `apiKeys` (active keys),
 * `webhooks` (endpoints).
 */
export type RoomFor = Resource | 'invitations';

/**
 * The team's plan: the view (`GET /teams/:teamId/plan`, `plan` on the team) and the limit
 * check every module that adds members, invitations, API keys or webhook endpoints asks in the
 * transaction of its write (`assertRoom`). Reads only; the plan columns are written by billing
 * (from Stripe) and the back office (the override) through TeamsService.
 */
@Injectable()
export class PlansService {
  constructor(
    private readonly txHost: TransactionHost,
    private readonly repo: PlansRepository,
    private readonly access: AccessService,
    private readonly config: AppConfig,
  ) {}

  /** GET /teams/:teamId/plan: the plan with its usage (any member). */
  async view(actor: Actor, teamId: number, now = new Date()): Promise<PlanViewDto> {
    await this.access.requireTeam(actor, teamId, 'plan.read');
    const team = await this.repo.findTeam(teamId);
    if (!team) throw AccessErrors.notFound();
    const usage = await this.usage(teamId, now);
    return { ...this.toPlan(team, usage.members), usage };
  }

  /**
   * The back office's team page: the plan view, where its limits come from, and the override
   * as stored (support staff may read it).
   */
  async backOfficeView(
    actor: AdminActor,
    teamId: number,
  ): Promise<PlanViewDto & { limitsSource: LimitsSource; planOverride: PlanLimits | null }> {
    const view = await this.view(actor, teamId);
    const team = await this.repo.findTeam(teamId);
    if (!team) throw AccessErrors.notFound();
    return {
      ...view,
      limitsSource: effectiveLimits(team, this.config.freePlanLimits).source,
      planOverride: team.planOverride,
    };
  }

  /**
   * The plan without usage (`plan` on GET /teams/:teamId) of a team row the caller has already
   * read (its plan columns) and decided access to; `members`: the member count it has at hand.
   */
  summaryOf(team: TeamPlanRow, members: number): TeamPlanDto {
    return this.toPlan(team, members);
  }

  /** The limits in force for a team row (override, live plan, free plan). */
  limitsOf(team: TeamPlanRow): EffectiveLimits {
    return effectiveLimits(team, this.config.freePlanLimits).limits;
  }

  /**
   * Refuses with 402 `plan.limit_reached` (`details: [{limit, max, used}]`) when one more of
   * `what` would pass the team's limit. Call it inside the transaction that writes the
   * addition, before the write: it locks the team row (`SELECT … FOR UPDATE`) and then counts,
   * so concurrent additions to one team queue on the lock and each sees the ones committed
   * before it (twenty concurrent invitations at max_members=5 create exactly the room left).
   * A team that does not exist passes (the caller answers its own 404).
   */
  async assertRoom(teamId: number, what: RoomFor, now = new Date()): Promise<void> {
    if (!this.txHost.inTransaction) {
      throw new Error('PlansService.assertRoom must run inside the transaction of the write');
    }
    const team = await this.repo.findTeamForUpdate(teamId);
    if (!team) return;
    const limits = this.limitsOf(team);
    const resource: Resource = what === 'invitations' ? 'members' : what;
    // Unlimited: nothing to count.
    if (limits[LIMIT_OF[resource].field] === null) return;
    const used = await this.countFor(teamId, what, now);
    const verdict = decideRoom(limits, resource, used);
    if (!verdict.allowed) {
      throw PlanErrors.limitReached(undefined, [
        {
          limit: verdict.limit,
          max: verdict.max,
          used: verdict.used,
          message: `${verdict.limit} is ${verdict.max}; ${verdict.used} in use`,
        },
      ]);
    }
  }

  /** The team's features (entitlement lookup keys); undefined: no such team. */
  featuresOf(teamId: number): Promise<string[] | undefined> {
    return this.repo.featuresOf(teamId);
  }

  private async countFor(teamId: number, what: RoomFor, now: Date): Promise<number> {
    switch (what) {
      case 'members':
        return this.repo.countMembers(teamId);
      case 'invitations':
        return (
          (await this.repo.countMembers(teamId)) +
          (await this.repo.countPendingInvitations(teamId, invitationExpiryCutoff(now)))
        );
      case 'apiKeys':
        return this.repo.countActiveApiKeys(teamId, now);
      case 'webhooks':
        return this.repo.countWebhooks(teamId);
    }
  }

  private async usage(teamId: number, now: Date): Promise<PlanUsageDto> {
    const [members, pendingInvitations, apiKeys, webhooks] = await Promise.all([
      this.repo.countMembers(teamId),
      this.repo.countPendingInvitations(teamId, invitationExpiryCutoff(now)),
      this.repo.countActiveApiKeys(teamId, now),
      this.repo.countWebhooks(teamId),
    ]);
    return { members, pendingInvitations, apiKeys, webhooks };
  }

  private toPlan(team: TeamPlanRow, members: number): TeamPlanDto {
    const live = hasLiveSubscription(team.subscriptionStatus);
    return {
      plan:
        live && team.stripeProductId !== null
          ? { productId: team.stripeProductId, name: team.planName ?? team.stripeProductId }
          : null,
      status: team.subscriptionStatus,
      cancelAtPeriodEnd: live && team.cancelAtPeriodEnd,
      currentPeriodEnd: live ? team.currentPeriodEnd : null,
      perSeat: live && team.perSeat,
      seats: { used: members, billed: team.seatsBilled },
      limits: this.limitsOf(team),
      features: [...team.features],
    };
  }
}
