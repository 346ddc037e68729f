import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { AccessService } from './access.service.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { TeamRoleGuard } from './team-role.guard.js';
import { TeamsController } from './teams.controller.js';
import { TeamsRepository } from './teams.repository.js';
import { TeamsService } from './teams.service.js';

/**
 * Owns `teams` and `team_members` (billing's columns on `teams` included: billing writes them
 * through TeamsService). Also the access layer (AccessService, access.policy.ts) and the
 * `@TeamRole` guard built on it. Modules that put `@TeamRole(...)` on their routes import this
 * module. Exports services and the guard, never the repository.
 */
@Module({
  imports: [AuditModule, WebhooksModule],
  controllers: [TeamsController],
  providers: [TeamsRepository, TeamsService, AccessService, TeamRoleGuard],
  exports: [TeamsService, AccessService, TeamRoleGuard],
})
export class TeamsModule {}
