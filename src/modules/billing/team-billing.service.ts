import { Injectable } from '@nestjs/common';
import type Stripe from 'stripe';
import type { Actor } from '../../common/auth/actor.js';
import { CommonErrors } from '../../common/errors/common.errors.js';
import type { Page } from '../../common/http/pagination.js';
import { ActivityType } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { AccessService } from '../access/access.service.js';
import { AuditService } from '../audit/audit.service.js';
import type { PlanViewDto } from '../plans/plans.dto.js';
import { PlansService } from '../plans/plans.service.js';
import { TeamsService } from '../teams/teams.service.js';
import { BillingErrors } from './billing.errors.js';
import {
  decodeInvoiceCursor,
  encodeInvoiceCursor,
  toInvoiceView,
  type InvoiceView,
} from './billing.mappers.js';
import { StripeClient } from './stripe.client.js';
import { isLiveStatus } from './subscription-status.js';

/**
 * Reads a person waits for: a short timeout and one retry, so Stripe being down answers a
 * quick 502 `billing.stripe_unavailable` instead of holding the request for the SDK's
 * default 3 × 15 s.
 */
const INTERACTIVE: Stripe.RequestOptions = { timeout: 8_000, maxNetworkRetries: 1 };

/** The owner's billing operations on a team: invoices, cancel at period end, resume. */
@Injectable()
export class TeamBillingService {
  constructor(
    private readonly txHost: TransactionHost,
    private readonly stripe: StripeClient,
    private readonly teams: TeamsService,
    private readonly access: AccessService,
    private readonly audit: AuditService,
    private readonly plans: PlansService,
  ) {}

  /**
   * The team's invoices from Stripe, newest first, paged with Stripe's own cursor (the last
   * invoice id of a page, opaque to the client). No Stripe customer yet → an empty list.
   */
  async listInvoices(
    actor: Actor,
    teamId: number,
    query: { limit: number; cursor?: string },
  ): Promise<Page<InvoiceView>> {
    await this.access.requireTeam(actor, teamId, 'billing.invoices.read');
    const after = query.cursor === undefined ? undefined : decodeInvoiceCursor(query.cursor);
    if (query.cursor !== undefined && after === undefined) throw CommonErrors.invalidCursor();
    const team = await this.teams.findTeam(teamId);
    const customer = team?.stripeCustomerId;
    if (!customer) return { items: [], nextCursor: null };
    let page: Stripe.ApiList<Stripe.Invoice>;
    try {
      page = await this.stripe.api.invoices.list(
        { customer, limit: query.limit, ...(after !== undefined && { starting_after: after }) },
        INTERACTIVE,
      );
    } catch (error) {
      // A cursor naming an invoice Stripe does not know (deleted draft, forged id).
      if (after !== undefined && this.stripe.isNotFound(error)) throw CommonErrors.invalidCursor();
      return this.stripe.call(() => Promise.reject(error as Error));
    }
    const last = page.data.at(-1);
    return {
      items: page.data.map(toInvoiceView),
      nextCursor: page.has_more && last !== undefined ? encodeInvoiceCursor(last.id) : null,
    };
  }

  /**
   * Cancels the team's subscription at the end of its period (Stripe's `cancel_at_period_end`).
   * 409 without a live subscription. Stripe is asked first, outside any transaction (no row
   * lock is held across the network); then the team's cancelAtPeriodEnd and the
   * CANCEL_SUBSCRIPTION row are written in one transaction. Asking again when a cancel is
   * already pending changes nothing and logs nothing.
   */
  cancel(actor: Actor, teamId: number): Promise<PlanViewDto> {
    return this.setCancelAtPeriodEnd(actor, teamId, true);
  }

  /** Undoes a pending cancel; 409 `billing.no_pending_cancel` when none is pending. */
  resume(actor: Actor, teamId: number): Promise<PlanViewDto> {
    return this.setCancelAtPeriodEnd(actor, teamId, false);
  }

  private async setCancelAtPeriodEnd(
    actor: Actor,
    teamId: number,
    cancel: boolean,
  ): Promise<PlanViewDto> {
    const action = cancel ? 'billing.cancel' : 'billing.resume';
    await this.access.requireTeam(actor, teamId, action);
    const team = await this.teams.findTeam(teamId);
    const subscriptionId = team?.stripeSubscriptionId;
    if (!team || !subscriptionId || !isLiveStatus(team.subscriptionStatus)) {
      throw BillingErrors.noLiveSubscription();
    }
    if (!cancel && !team.cancelAtPeriodEnd) throw BillingErrors.noPendingCancel();
    const subscription = await this.stripe.call(() =>
      this.stripe.api.subscriptions.update(
        subscriptionId,
        { cancel_at_period_end: cancel },
        INTERACTIVE,
      ),
    );
    await this.txHost.transaction(async () => {
      const locked = await this.teams.findTeamForUpdate(teamId);
      // A write decides on a fresh read inside its transaction.
      await this.access.requireTeam(actor, teamId, action);
      if (!locked) throw BillingErrors.noLiveSubscription();
      // Stripe's answer is the state now; a newer subscription (a webhook meanwhile) is left alone.
      if (
        locked.stripeSubscriptionId === subscription.id &&
        locked.cancelAtPeriodEnd !== subscription.cancel_at_period_end
      ) {
        const now = new Date();
        await this.teams.setBilling(
          teamId,
          { cancelAtPeriodEnd: subscription.cancel_at_period_end },
          now,
        );
        await this.audit.recordFor(actor, {
          action: cancel ? ActivityType.CANCEL_SUBSCRIPTION : ActivityType.RESUME_SUBSCRIPTION,
          teamId,
        });
      }
    });
    // The plan view as GET /teams/:teamId/plan answers it, after the change committed.
    return this.plans.view(actor, teamId);
  }
}
