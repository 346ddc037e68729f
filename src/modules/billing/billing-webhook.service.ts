import { Injectable, Logger } from '@nestjs/common';
import type Stripe from 'stripe';
import { BillingErrors } from './billing.errors.js';
import {
  idOf,
  needsProductName,
  teamIdOfCheckoutSession,
  toSnapshot,
  type SubscriptionSnapshot,
} from './billing.mappers.js';
import { TeamsService } from '../teams/teams.service.js';
import { BillingRepository } from './billing.repository.js';
import { StripeClient } from './stripe.client.js';
import { SubscriptionSyncService, type SyncOutcome } from './subscription-sync.service.js';

export type WebhookOutcome = SyncOutcome | 'ignored';

/**
 * Stripe webhook: verify on the raw bytes, switch on the type, map with pure functions, write
 * through SubscriptionSyncService (once per event id, in order). Any failure after verification
 * (database down, Stripe unreachable) propagates as 5xx so Stripe retries; a 2xx always means
 * the event is committed, was a duplicate, or is deliberately ignored.
 */
@Injectable()
export class BillingWebhookService {
  private readonly logger = new Logger(BillingWebhookService.name);

  constructor(
    private readonly stripe: StripeClient,
    private readonly repo: BillingRepository,
    private readonly teams: TeamsService,
    private readonly sync: SubscriptionSyncService,
  ) {}

  async handle(
    rawBody: Buffer | undefined,
    signature: string | undefined,
    ipAddress: string | null,
  ): Promise<{ received: true; outcome: WebhookOutcome }> {
    const stripe = this.stripe.api;
    const secret = this.stripe.webhookSecret;
    if (secret === undefined) throw BillingErrors.notConfigured('STRIPE_WEBHOOK_SECRET is not set');
    if (rawBody === undefined || rawBody.length === 0 || !signature) {
      throw BillingErrors.invalidSignature();
    }
    let event: Stripe.Event;
    try {
      // Default tolerance: 300 s between the signed timestamp and now.
      event = stripe.webhooks.constructEvent(rawBody, signature, secret);
    } catch {
      throw BillingErrors.invalidSignature();
    }

    let outcome: WebhookOutcome;
    // An if-chain rather than a switch over Stripe's few hundred event types.
    if (
      event.type === 'customer.subscription.created' ||
      event.type === 'customer.subscription.updated' ||
      event.type === 'customer.subscription.deleted'
    ) {
      outcome = await this.onSubscription(event, toSnapshot(event.data.object), ipAddress);
    } else if (event.type === 'checkout.session.completed') {
      outcome = await this.onCheckoutCompleted(event, event.data.object, ipAddress);
    } else {
      // Not recorded: only events we act on take part in idempotency and ordering.
      outcome = 'ignored';
    }
    this.logger.log({ eventId: event.id, type: event.type, outcome }, 'stripe webhook');
    return { received: true, outcome };
  }

  private async onSubscription(
    event: Stripe.Event,
    snapshot: SubscriptionSnapshot,
    ipAddress: string | null,
  ): Promise<WebhookOutcome> {
    if (await this.repo.eventExists(event.id)) return 'duplicate';
    if ((await this.teams.findTeamIdByStripeCustomer(snapshot.customerId)) === undefined) {
      this.logger.warn(
        { eventId: event.id, customer: snapshot.customerId },
        'stripe webhook for a customer no team has; acknowledged, nothing changed',
      );
      return 'unknown_customer';
    }
    // Events carry the product id only; its name and metadata (the plan's limits) are fetched
    // before the transaction opens.
    const productId = needsProductName(snapshot);
    const product =
      productId === undefined
        ? undefined
        : await this.stripe.call(() => this.stripe.api.products.retrieve(productId));
    const { outcome } = await this.sync.apply({
      snapshot,
      productName: product?.name,
      productMetadata: product?.metadata,
      asOf: event.created,
      event: { id: event.id, type: event.type },
      ipAddress,
    });
    return outcome;
  }

  /**
   * Checkout completed: link by the session's team and customer, then apply the subscription
   * as Stripe has it now (the event names it by id only).
   */
  private async onCheckoutCompleted(
    event: Stripe.Event,
    session: Stripe.Checkout.Session,
    ipAddress: string | null,
  ): Promise<WebhookOutcome> {
    const teamId = teamIdOfCheckoutSession(session);
    const customerId = idOf(session.customer);
    const subscriptionId = idOf(session.subscription);
    if (session.mode !== 'subscription' || subscriptionId === undefined) return 'ignored';
    if (teamId === undefined || customerId === undefined) {
      this.logger.warn({ eventId: event.id }, 'checkout session without our team reference');
      return 'unknown_customer';
    }
    if (await this.repo.eventExists(event.id)) return 'duplicate';
    const subscription = await this.stripe.call(() =>
      this.stripe.api.subscriptions.retrieve(subscriptionId, {
        expand: ['items.data.price.product'],
      }),
    );
    const { outcome } = await this.sync.apply({
      snapshot: toSnapshot(subscription),
      asOf: event.created,
      teamId,
      event: { id: event.id, type: event.type },
      ipAddress,
    });
    if (outcome === 'unknown_customer') {
      this.logger.warn({ eventId: event.id, teamId, customerId }, 'checkout for an unknown team');
    }
    return outcome;
  }
}
