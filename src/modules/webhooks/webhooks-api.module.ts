import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksModule } from './webhooks.module.js';

/**
 * The owners' routes under /teams/:teamId/webhooks, apart from WebhooksModule so that the
 * worker, which imports WebhooksModule for the deliveries, loads no routes.
 */
@Module({ imports: [WebhooksModule, AccessModule], controllers: [WebhooksController] })
export class WebhooksApiModule {}
