import { Module } from '@nestjs/common';
import { RateLimitModule } from '../../common/rate-limit/rate-limit.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { AccessModule } from '../access/access.module.js';
import { TeamsModule } from '../teams/teams.module.js';
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
 * UPDATE_SUBSCRIPTION rows and RateLimitModule for the throttled checkout-success redirect.
 */
@Module({
  imports: [AccessModule, TeamsModule, AuditModule, RateLimitModule, WebhooksModule],
  controllers: [BillingController, TeamBillingController],
  providers: [
    StripeClient,
    BillingRepository,
    SubscriptionSyncService,
    BillingService,
    BillingWebhookService,
  ],
  exports: [BillingService],
})
export class BillingModule {}
