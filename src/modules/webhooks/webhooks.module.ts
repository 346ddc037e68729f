import { Module } from '@nestjs/common';
import { RateLimitModule } from '../../common/rate-limit/rate-limit.module.js';
import { AccessModule } from '../access/access.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { PlansModule } from '../plans/plans.module.js';
import { WebhookDeliveryWorker } from './webhook-delivery.worker.js';
import { WebhooksRepository } from './webhooks.repository.js';
import { WebhooksService } from './webhooks.service.js';

/**
 * Outgoing webhooks: events, endpoints and deliveries (WebhooksService), and the worker that
 * sends them (WebhookDeliveryWorker). Sits below teams, invitations and billing (they import
 * it to `emit` in their transactions) and knows none of them. Its HTTP routes are in
 * WebhooksApiModule.
 */
@Module({
  imports: [AccessModule, JobsModule, AuditModule, PlansModule, RateLimitModule],
  providers: [WebhooksRepository, WebhooksService, WebhookDeliveryWorker],
  exports: [WebhooksService],
})
export class WebhooksModule {}
