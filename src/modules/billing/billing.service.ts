import { Injectable, Logger } from '@nestjs/common';
import type Stripe from 'stripe';
import type { UserActor } from '../../common/auth/actor.js';
import { AppConfig } from '../../config/app-config.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { AccessService } from '../access/access.service.js';
import { TeamsService } from '../teams/teams.service.js';
import { BillingErrors } from './billing.errors.js';
import {
  idOf,
  teamIdOfCheckoutSession,
  toPlans,
  toSnapshot,
  type Plan,
} from './billing.mappers.js';
import { isLiveStatus } from './subscription-status.js';
import { StripeClient } from './stripe.client.js';
import { SubscriptionSyncService } from './subscription-sync.service.js';
import { EntitlementsService } from './entitlements.service.js';

/** How long GET /billing/plans serves Stripe's answer from memory. */
export const PLANS_TTL_MS = 60_000;

/** Where the browser lands after Checkout / the portal (APP_URL is the frontend). */
export const billingPageUrl = (appUrl: string, teamId: number, checkout?: string): string =>
  `${appUrl}/teams/${teamId}/billing${checkout === undefined ? '' : `?checkout=${checkout}`}`;

/**
 * Stripe's redirect target after a paid checkout. It is this API's route, reached through the
 * frontend's origin: the deployment serves `/api/v1` on APP_URL's origin (same-origin proxy,
 * or the API itself when APP_URL is the API as in the default http://localhost:3000).
 */
export const checkoutSuccessUrl = (appUrl: string): string =>
  `${appUrl}/api/v1/billing/checkout/success?session_id={CHECKOUT_SESSION_ID}`;

@Injectable()
export class BillingService {
  private readonly logger = new Logger(BillingService.name);
  private plansCache: { at: number; plans: Promise<Plan[]> } | undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly stripe: StripeClient,
    private readonly txHost: TransactionHost,
    private readonly teams: TeamsService,
    private readonly sync: SubscriptionSyncService,
    private readonly access: AccessService,
    private readonly entitlements: EntitlementsService,
  ) {}

  /** Active products with their default recurring price, cached in-process for a minute. */
  listPlans(options: { fresh?: boolean } = {}): Promise<Plan[]> {
    const stripe = this.stripe.api;
    const cached = this.plansCache;
    if (!options.fresh && cached && Date.now() - cached.at < PLANS_TTL_MS) return cached.plans;
    const plans = this.stripe.call(async () => {
      const prices: Stripe.Price[] = [];
      for await (const price of stripe.prices.list({
        active: true,
        type: 'recurring',
        expand: ['data.product'],
        limit: 100,
      })) {
        prices.push(price);
      }
      return toPlans(prices);
    });
    const entry = { at: Date.now(), plans };
    this.plansCache = entry;
    // A failed fetch is not cached.
    plans.catch(() => {
      if (this.plansCache === entry) this.plansCache = undefined;
    });
    return plans;
  }

  /** A plan by price id; a miss refreshes the cache once (a plan added in the last minute). */
  private async findPlan(priceId: string): Promise<Plan | undefined> {
    const plan = (await this.listPlans()).find((p) => p.priceId === priceId);
    return plan ?? (await this.listPlans({ fresh: true })).find((p) => p.priceId === priceId);
  }

  /**
   * A subscription-mode Checkout session for the team. The team's Stripe customer is created on
   * the first checkout while the team row is locked (and with an idempotency key derived from
   * the team), so concurrent checkouts share one customer.
   */
  async createCheckout(user: UserActor, teamId: number, priceId: string): Promise<{ url: string }> {
    await this.access.requireTeam(user, teamId, 'billing.manage');
    const stripe = this.stripe.api;
    const plan = await this.findPlan(priceId);
    if (!plan) throw BillingErrors.unknownPrice();

    const { customerId, members } = await this.txHost.transaction(async () => {
      const team = await this.teams.findTeamForUpdate(teamId);
      if (!team) throw BillingErrors.noCustomer(); // unreachable behind the access check
      if (isLiveStatus(team.subscriptionStatus)) throw BillingErrors.alreadySubscribed();
      const members = (await this.teams.seatState(teamId))?.members ?? 1;
      if (team.stripeCustomerId !== null) return { customerId: team.stripeCustomerId, members };
      const customer = await this.stripe.call(() =>
        stripe.customers.create(
          { name: team.name, email: user.email, metadata: { teamId: String(team.id) } },
          // Same team → same customer even if our commit fails after Stripe created it.
          { idempotencyKey: `nest-saas:team-customer:${team.id}:${team.createdAt.getTime()}` },
        ),
      );
      await this.teams.setBilling(team.id, { stripeCustomerId: customer.id }, new Date());
      return { customerId: customer.id, members };
    });

    const session = await this.stripe.call(() =>
      stripe.checkout.sessions.create({
        mode: 'subscription',
        customer: customerId,
        client_reference_id: String(teamId),
        metadata: { teamId: String(teamId), userId: String(user.id) },
        // Per seat: the members now; a change before payment is sent by the seat sync after it.
        line_items: [{ price: plan.priceId, quantity: plan.perSeat ? Math.max(1, members) : 1 }],
        subscription_data: {
          metadata: { teamId: String(teamId) },
          ...(plan.trialDays > 0 && { trial_period_days: plan.trialDays }),
        },
        allow_promotion_codes: true,
        success_url: checkoutSuccessUrl(this.config.appUrl),
        cancel_url: billingPageUrl(this.config.appUrl, teamId, 'canceled'),
      }),
    );
    if (session.url === null) throw BillingErrors.stripeUnavailable('Stripe returned no URL');
    return { url: session.url };
  }

  /** A customer-portal session for the team's customer (change plan, payment method, cancel). */
  async createPortal(user: UserActor, teamId: number): Promise<{ url: string }> {
    await this.access.requireTeam(user, teamId, 'billing.manage');
    const stripe = this.stripe.api;
    const team = await this.teams.findTeam(teamId);
    if (!team?.stripeCustomerId) throw BillingErrors.noCustomer();
    const customer = team.stripeCustomerId;
    const session = await this.stripe.call(() =>
      stripe.billingPortal.sessions.create({
        customer,
        return_url: billingPageUrl(this.config.appUrl, teamId),
      }),
    );
    return { url: session.url };
  }

  /**
   * Stripe's redirect after a completed checkout: re-reads the session and its subscription
   * from Stripe, writes them onto the team (unless a newer webhook already did) and returns
   * the frontend URL to 303 to.
   */
  async completeCheckout(
    sessionId: string,
    ipAddress: string | null,
  ): Promise<{ url: string; statusCode: number }> {
    const stripe = this.stripe.api;
    const fetchedAt = Math.floor(Date.now() / 1000);
    let session: Stripe.Checkout.Session;
    try {
      session = await stripe.checkout.sessions.retrieve(sessionId, {
        expand: ['subscription', 'subscription.items.data.price.product'],
      });
    } catch (error) {
      if (this.stripe.isNotFound(error)) throw BillingErrors.checkoutSessionNotFound();
      return this.stripe.call(() => Promise.reject(error as Error));
    }
    const teamId = teamIdOfCheckoutSession(session);
    const customerId = idOf(session.customer);
    if (session.mode !== 'subscription' || teamId === undefined || customerId === undefined) {
      throw BillingErrors.checkoutSessionNotFound();
    }
    if (session.status !== 'complete' || typeof session.subscription !== 'object') {
      throw BillingErrors.checkoutIncomplete();
    }
    const snapshot = toSnapshot(session.subscription as Stripe.Subscription);
    const { outcome } = await this.sync.apply({ snapshot, asOf: fetchedAt, teamId, ipAddress });
    if (outcome === 'unknown_customer') throw BillingErrors.checkoutSessionNotFound();
    // Features as Stripe has them now (the summary event may be late), and the seat count in
    // case members changed between checkout and payment.
    await this.entitlements.refreshAfterCheckout(teamId, customerId);
    await this.teams.queueSeatSync(teamId);
    this.logger.log({ teamId, sessionId, outcome }, 'checkout completed');
    return { url: billingPageUrl(this.config.appUrl, teamId, 'success'), statusCode: 303 };
  }

  /**
   * Account-deletion rule (enforced by auth's deletion): a user who is the only owner of a
   * team whose subscription is live (trialing, active, past_due, unpaid, paused) must cancel
   * it (or hand the team to another owner) first → 409 `billing.active_subscription`.
   */
  async assertNoSoleOwnedLiveSubscription(userId: number): Promise<void> {
    const teams = (await this.teams.soleOwnedTeams(userId))
      .map((t) => t.team)
      .filter((team) => isLiveStatus(team.subscriptionStatus));
    if (teams.length > 0) {
      throw BillingErrors.activeSubscription(
        undefined,
        teams.map((team) => ({
          field: `teams.${team.id}`,
          message: `"${team.name}" has a ${team.subscriptionStatus ?? ''} subscription`,
        })),
      );
    }
  }
}
