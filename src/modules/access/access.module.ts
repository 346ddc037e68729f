import { Module } from '@nestjs/common';
import { AccessRepository } from './access.repository.js';
import { AccessService } from './access.service.js';
import { TeamRoleGuard } from './team-role.guard.js';

/**
 * The access layer, on the ground floor of the feature modules (it imports none): the policy
 * (access.policy.ts), AccessService that every team-scoped service asks first, the one read of
 * memberships, and the `@TeamRole` route guard built on the same service. Modules that check
 * access or put `@TeamRole(...)` on their routes import this module.
 */
@Module({
  providers: [AccessRepository, AccessService, TeamRoleGuard],
  exports: [AccessService, TeamRoleGuard],
})
export class AccessModule {}
