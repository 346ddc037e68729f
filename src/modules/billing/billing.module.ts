import { Module } from '@nestjs/common';
import { RateLimitModule } from '../../common/rate-limit/rate-limit.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { AccessModule } from '../access/access.module.js';
import { PlansModule } from '../plans/plans.module.js';
import { TeamsModule } from '../teams/teams.module.js';
import { MailModule } from '../mail/mail.module.js';
import { BillingNoticesService } from './billing-notices.service.js';
import { EntitlementsService } from './entitlements.service.js';
import { SeatSyncWorker } from './seat-sync.worker.js';
import { TeamBillingService } from './team-billing.service.js';
import { BillingWebhookService } from './billing-webhook.service.js';
import { BillingController } from './billing.controller.js';
import { BillingRepository } from './billing.repository.js';
import { BillingService } from './billing.service.js';
import { StripeClient } from './stripe.client.js';
import { SubscriptionSyncService } from './subscription-sync.service.js';
import { TeamBillingController } from './team-billing.controller.js';

/**
 * Stripe billing per team. Imports AccessModule for the `@TeamRole` guard and the access checks,
 * TeamsModule for the team rows, AuditModule for the
 * UPDATE_SUBSCRIPTION rows and RateLimitModule for the throttled checkout-success redirect,
 * MailModule for the dunning and trial-end mails. The seat sync's job is queued by teams
 * (SEAT_SYNC_JOB) and run here (SeatSyncWorker).
 */
@Module({
  imports: [AccessModule, PlansModule, TeamsModule, AuditModule, RateLimitModule, WebhooksModule, MailModule],
  controllers: [BillingController, TeamBillingController],
  providers: [
    StripeClient,
    BillingRepository,
    SubscriptionSyncService,
    BillingService,
    BillingWebhookService,
    TeamBillingService,
    EntitlementsService,
    BillingNoticesService,
    SeatSyncWorker,
  ],
  exports: [BillingService],
})
export class BillingModule {}
