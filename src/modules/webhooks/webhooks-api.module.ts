import { Module } from '@nestjs/common';
import { TeamsModule } from '../teams/teams.module.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksModule } from './webhooks.module.js';

/**
 * The owners' routes under /teams/:teamId/webhooks. Separate from WebhooksModule because
 * `@TeamRole` needs TeamsModule, which itself imports WebhooksModule to emit events.
 */
@Module({ imports: [WebhooksModule, TeamsModule], controllers: [WebhooksController] })
export class WebhooksApiModule {}
