import { Injectable, Logger } from '@nestjs/common';
import type Stripe from 'stripe';
import { TransactionHost } from '../../database/transaction-host.js';
import { TeamsService } from '../teams/teams.service.js';
import { BillingRepository } from './billing.repository.js';
import { toFeatureKeys } from './billing.mappers.js';
import { StripeClient } from './stripe.client.js';

export type EntitlementsOutcome = 'applied' | 'duplicate' | 'unknown_customer' | 'stale';

/**
 * A team's features: the lookup keys of its Stripe customer's active entitlements, stored on
 * the team (`features`) with the Stripe time they are as of (`featuresAsOf`): an older summary
 * never replaces a newer one, whichever arrives last.
 */
@Injectable()
export class EntitlementsService {
  private readonly logger = new Logger(EntitlementsService.name);

  constructor(
    private readonly txHost: TransactionHost,
    private readonly repo: BillingRepository,
    private readonly teams: TeamsService,
    private readonly stripe: StripeClient,
  ) {}

  /**
   * `entitlements.active_entitlement_summary.updated`: once per event id, ordered by the
   * event's `created`. A summary that does not list every entitlement (`has_more`) is
   * completed from the API before the transaction opens.
   */
  async onSummaryUpdated(
    event: Stripe.Event,
    summary: Stripe.Entitlements.ActiveEntitlementSummary,
  ): Promise<EntitlementsOutcome> {
    const customerId = summary.customer;
    if (await this.repo.eventExists(event.id)) return 'duplicate';
    if ((await this.teams.findTeamIdByStripeCustomer(customerId)) === undefined) {
      this.logger.warn(
        { eventId: event.id, customer: customerId },
        'entitlements for a customer no team has; acknowledged, nothing changed',
      );
      return 'unknown_customer';
    }
    const entitlements = summary.entitlements.has_more
      ? await this.listActive(customerId)
      : summary.entitlements.data;
    const keys = toFeatureKeys(entitlements);
    return this.txHost.transaction(async () => {
      const team = await this.teams.findTeamByStripeCustomerForUpdate(customerId);
      if (!team) return 'unknown_customer' as const;
      const now = new Date();
      // Ordered by featuresAsOf, not with the subscription events.
      if (!(await this.repo.recordUnorderedEvent(event, customerId, now))) {
        return 'duplicate' as const;
      }
      const applied = await this.teams.setFeatures(team.id, keys, event.created, now);
      return applied ? ('applied' as const) : ('stale' as const);
    });
  }

  /**
   * Reads the customer's active entitlements from Stripe now and stores them as of now (a
   * completed checkout: the summary event may come later, or before the team knew its
   * customer). A summary event created before this read then loses to it.
   */
  async refresh(teamId: number, customerId: string): Promise<void> {
    const asOf = Math.floor(Date.now() / 1000);
    const keys = toFeatureKeys(await this.listActive(customerId));
    await this.teams.setFeatures(teamId, keys, asOf, new Date());
  }

  /**
   * `refresh` after a checkout was applied (committed): a failure is logged, not thrown, so
   * the redirect still lands and the webhook is not retried for it (its event is recorded
   * already); the summary event brings the features anyway.
   */
  async refreshAfterCheckout(teamId: number, customerId: string): Promise<void> {
    try {
      await this.refresh(teamId, customerId);
    } catch (error) {
      this.logger.warn({ err: error, teamId }, 'could not read the entitlements after checkout');
    }
  }

  private listActive(customerId: string): Promise<Stripe.Entitlements.ActiveEntitlement[]> {
    return this.stripe.call(() =>
      this.stripe.api.entitlements.activeEntitlements
        .list({ customer: customerId, limit: 100 })
        .autoPagingToArray({ limit: 10_000 }),
    );
  }
}
