import { Module } from '@nestjs/common';
import { RateLimitModule } from '../../common/rate-limit/rate-limit.module.js';
import { AccessModule } from '../access/access.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { DomainsModule } from '../domains/domains.module.js';
import { TeamsModule } from '../teams/teams.module.js';
import { UsersModule } from '../users/users.module.js';
import { ScimAuthGuard } from './scim-auth.guard.js';
import { ScimTokensController } from './scim-tokens.controller.js';
import { ScimTokensService } from './scim-tokens.service.js';
import { ScimController } from './scim.controller.js';
import { ScimRepository } from './scim.repository.js';
import { ScimService } from './scim.service.js';

/**
 * Directory sync (SCIM 2.0, API.md v1.2): owns `scim_tokens`, `scim_directories`,
 * `scim_users`, `scim_groups` and `scim_group_members`. Above auth (it ends sessions and sends
 * verification mail through auth's services) and below admin (the back office lists and
 * revokes tokens through ScimTokensService). Memberships change only through TeamsService.
 */
@Module({
  imports: [
    AccessModule,
    AuditModule,
    AuthModule,
    DomainsModule,
    RateLimitModule,
    TeamsModule,
    UsersModule,
  ],
  controllers: [ScimTokensController, ScimController],
  providers: [ScimRepository, ScimTokensService, ScimService, ScimAuthGuard],
  exports: [ScimTokensService],
})
export class ScimModule {}
