import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { TeamRoleGuard } from './team-role.guard.js';
import { TeamsController } from './teams.controller.js';
import { TeamsRepository } from './teams.repository.js';
import { TeamsService } from './teams.service.js';

/**
 * Teams, memberships and the `@TeamRole` guard. Modules that put `@TeamRole(...)` on their
 * routes import this module (the guard needs TeamsRepository in their injector).
 */
@Module({
  imports: [AuditModule, WebhooksModule],
  controllers: [TeamsController],
  providers: [TeamsRepository, TeamsService, TeamRoleGuard],
  exports: [TeamsRepository, TeamRoleGuard],
})
export class TeamsModule {}
