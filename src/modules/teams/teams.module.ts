import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { AccessModule } from '../access/access.module.js';
import { PlansModule } from '../plans/plans.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { TeamsController } from './teams.controller.js';
import { TeamsRepository } from './teams.repository.js';
import { TeamsService } from './teams.service.js';

/**
 * Owns `teams` and `team_members` (billing's columns on `teams` included: billing writes them
 * through TeamsService). Its operations ask the access layer (AccessModule). Exports its
 * service, never the repository.
 */
@Module({
  imports: [AccessModule, AuditModule, PlansModule, WebhooksModule],
  controllers: [TeamsController],
  providers: [TeamsRepository, TeamsService],
  exports: [TeamsService],
})
export class TeamsModule {}
