import { Module } from '@nestjs/common';
import { BillingWebhookService } from './billing-webhook.service.js';
import { BillingController } from './billing.controller.js';
import { BillingRepository } from './billing.repository.js';
import { BillingService } from './billing.service.js';
import { StripeClient } from './stripe.client.js';
import { SubscriptionSyncService } from './subscription-sync.service.js';

@Module({
  controllers: [BillingController],
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
