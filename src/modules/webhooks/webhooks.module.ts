import { Module } from '@nestjs/common';
import { RateLimitModule } from '../../common/rate-limit/rate-limit.module.js';
import { AccessModule } from '../access/access.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { WebhooksRepository } from './webhooks.repository.js';
import { WebhooksService } from './webhooks.service.js';

/**
 * Outgoing webhooks: events, endpoints, deliveries and the `webhooks.deliver` job. Sits below
 * teams, invitations and billing (they import it to `emit` in their transactions) and knows
 * none of them. Its HTTP routes are in WebhooksApiModule.
 */
@Module({
  imports: [AccessModule, JobsModule, AuditModule, RateLimitModule],
  providers: [WebhooksRepository, WebhooksService],
  exports: [WebhooksService],
})
export class WebhooksModule {}
