import { Injectable } from '@nestjs/common';
import { ActivityType } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { AuditService } from '../audit/audit.service.js';
import { TeamsService } from '../teams/teams.service.js';
import { toTeamDto } from '../teams/teams.service.js';
import { WebhooksService } from '../webhooks/webhooks.service.js';
import { BillingRepository } from './billing.repository.js';
import {
  decideApply,
  subscriptionFieldsChanged,
  toSubscriptionFields,
  type ApplyDecision,
  type SubscriptionSnapshot,
} from './billing.mappers.js';

export type SyncOutcome =
  'applied' | 'duplicate' | 'unknown_customer' | Extract<ApplyDecision, { apply: false }>['reason'];

export interface SyncInput {
  snapshot: SubscriptionSnapshot;
  /** Name of the snapshot's product when it was not expanded. */
  productName?: string;
  /** Metadata of the snapshot's product when it was not expanded (its `max_*` limits). */
  productMetadata?: Record<string, string>;
  /** Ordering key, Unix seconds: the event's `created`, or when the snapshot was fetched. */
  asOf: number;
  /** When set, the team must also be this one (checkout sessions carry it). */
  teamId?: number;
  /** The webhook event being applied; recorded once in stripe_events with the update. */
  event?: { id: string; type: string };
  /** Address of the request that brought the change (Stripe's webhook call, the redirected browser). */
  ipAddress?: string | null;
}

/**
 * Writes a subscription snapshot onto its team, once and in order. One transaction: lock the
 * team row (found by Stripe customer id), read the newest applied event for the team, decide
 * (pure `decideApply`), record the event id (insert … on conflict do nothing), update the team
 * and log UPDATE_SUBSCRIPTION (userId null: Stripe acted, not a user of ours).
 * A redelivered event finds its id recorded and changes nothing; concurrent copies queue on
 * the team row lock and then on the event's primary key. A stale, duplicate or skipped event,
 * or one that repeats the team's current state, writes no activity row.
 */
@Injectable()
export class SubscriptionSyncService {
  constructor(
    private readonly txHost: TransactionHost,
    private readonly repo: BillingRepository,
    private readonly teams: TeamsService,
    private readonly audit: AuditService,
    private readonly webhooks: WebhooksService,
  ) {}

  apply(input: SyncInput, now = new Date()): Promise<{ outcome: SyncOutcome; teamId?: number }> {
    return this.txHost.transaction(async () => {
      const team = await this.teams.findTeamByStripeCustomerForUpdate(input.snapshot.customerId);
      if (!team || (input.teamId !== undefined && team.id !== input.teamId)) {
        // Not a customer of ours (another app on the same Stripe account, or a deleted team):
        // acknowledged without a trace, so Stripe stops retrying.
        return { outcome: 'unknown_customer' as const };
      }
      const lastAppliedAt = await this.repo.lastAppliedEventAt(team.id);
      const decision = decideApply(
        { ...team, lastAppliedAt },
        { subscriptionId: input.snapshot.subscriptionId, status: input.snapshot.status },
        input.asOf,
      );
      if (input.event) {
        const recorded = await this.repo.recordEvent(
          {
            id: input.event.id,
            type: input.event.type,
            created: input.asOf,
            stripeCustomerId: input.snapshot.customerId,
            // Only applied events take part in the ordering of later ones.
            teamId: decision.apply ? team.id : null,
          },
          now,
        );
        if (!recorded) return { outcome: 'duplicate' as const, teamId: team.id };
      }
      if (!decision.apply) return { outcome: decision.reason, teamId: team.id };
      const fields = toSubscriptionFields(input.snapshot, input.productName, input.productMetadata);
      // Same state again: applied (and, for an event, recorded), but nothing to write or log.
      if (!subscriptionFieldsChanged(team, fields)) {
        return { outcome: 'applied' as const, teamId: team.id };
      }
      await this.teams.setBilling(team.id, fields, now);
      await this.audit.recordSystem({
        action: ActivityType.UPDATE_SUBSCRIPTION,
        userId: null,
        teamId: team.id,
        ipAddress: input.ipAddress ?? null,
      });
      await this.webhooks.emit(
        team.id,
        'subscription.updated',
        toTeamDto({ ...team, ...fields, updatedAt: now }),
      );
      return { outcome: 'applied' as const, teamId: team.id };
    });
  }
}
