import { Module } from '@nestjs/common';
import { TeamsModule } from '../teams/teams.module.js';
import { BillingWebhookService } from './billing-webhook.service.js';
import { BillingController } from './billing.controller.js';
import { BillingRepository } from './billing.repository.js';
import { BillingService } from './billing.service.js';
import { StripeClient } from './stripe.client.js';
import { SubscriptionSyncService } from './subscription-sync.service.js';
import { TeamBillingController } from './team-billing.controller.js';

/** Stripe billing per team. Imports TeamsModule for the `@TeamRole` guard. */
@Module({
  imports: [TeamsModule],
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
