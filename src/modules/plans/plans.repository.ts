import { Injectable } from '@nestjs/common';
import { and, count, eq, gt, isNull, or } from 'drizzle-orm';
import {
  apiKeys,
  invitations,
  teamMembers,
  teams,
  webhookEndpoints,
  type PlanLimits,
} from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';

/** The team columns the plan view and the limit decision read. */
export interface TeamPlanRow {
  id: number;
  stripeProductId: string | null;
  planName: string | null;
  subscriptionStatus: string | null;
  cancelAtPeriodEnd: boolean;
  currentPeriodEnd: Date | null;
  perSeat: boolean;
  planLimits: PlanLimits | null;
  planOverride: PlanLimits | null;
  features: string[];
  seatsBilled: number | null;
}

const planColumns = {
  id: teams.id,
  stripeProductId: teams.stripeProductId,
  planName: teams.planName,
  subscriptionStatus: teams.subscriptionStatus,
  cancelAtPeriodEnd: teams.cancelAtPeriodEnd,
  currentPeriodEnd: teams.currentPeriodEnd,
  perSeat: teams.perSeat,
  planLimits: teams.planLimits,
  planOverride: teams.planOverride,
  features: teams.features,
  seatsBilled: teams.seatsBilled,
};

/**
 * The plan's reads: the team's plan columns (locked, for a limit check inside the caller's
 * transaction) and the counts of what uses the limits. Documented cross-owner reads (never a
 * write): `teams` and `team_members` are the teams module's, `invitations`, `api_keys` and
 * `webhook_endpoints` their modules'; the limit check sits below them all so that each of them
 * can ask it without importing upwards.
 */
@Injectable()
export class PlansRepository {
  constructor(private readonly txHost: TransactionHost) {}

  findTeam(teamId: number): Promise<TeamPlanRow | undefined> {
    return this.txHost.db
      .select(planColumns)
      .from(teams)
      .where(eq(teams.id, teamId))
      .then(([row]) => row);
  }

  /**
   * The team row, locked (`FOR UPDATE`) until the surrounding transaction ends: every addition
   * that counts against a limit takes this lock before counting, so concurrent additions queue
   * and each one counts what the previous ones committed.
   */
  findTeamForUpdate(teamId: number): Promise<TeamPlanRow | undefined> {
    return this.txHost.db
      .select(planColumns)
      .from(teams)
      .where(eq(teams.id, teamId))
      .for('update')
      .then(([row]) => row);
  }

  /** The team's features (entitlement lookup keys); undefined: no such team. */
  async featuresOf(teamId: number): Promise<string[] | undefined> {
    const [row] = await this.txHost.db
      .select({ features: teams.features })
      .from(teams)
      .where(eq(teams.id, teamId));
    return row?.features;
  }

  async countMembers(teamId: number): Promise<number> {
    const [row] = await this.txHost.db
      .select({ n: count() })
      .from(teamMembers)
      .where(eq(teamMembers.teamId, teamId));
    return row?.n ?? 0;
  }

  /** Pending invitations not yet expired (sent after `cutoff`), as the invitations module lists them. */
  async countPendingInvitations(teamId: number, cutoff: Date): Promise<number> {
    const [row] = await this.txHost.db
      .select({ n: count() })
      .from(invitations)
      .where(
        and(
          eq(invitations.teamId, teamId),
          eq(invitations.status, 'pending'),
          gt(invitations.invitedAt, cutoff),
        ),
      );
    return row?.n ?? 0;
  }

  /** API keys that still work: not revoked, not expired by `now`. */
  async countActiveApiKeys(teamId: number, now: Date): Promise<number> {
    const [row] = await this.txHost.db
      .select({ n: count() })
      .from(apiKeys)
      .where(
        and(
          eq(apiKeys.teamId, teamId),
          isNull(apiKeys.revokedAt),
          or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now)),
        ),
      );
    return row?.n ?? 0;
  }

  /** Every endpoint of the team, disabled ones too (they can be enabled again). */
  async countWebhooks(teamId: number): Promise<number> {
    const [row] = await this.txHost.db
      .select({ n: count() })
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.teamId, teamId));
    return row?.n ?? 0;
  }
}
