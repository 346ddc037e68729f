import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { DomainsModule } from '../domains/domains.module.js';
import { TeamsModule } from '../teams/teams.module.js';
import { UsersModule } from '../users/users.module.js';
import { SamlController } from './saml.controller.js';
import { SamlService } from './saml.service.js';
import { SsoController } from './sso.controller.js';
import { SsoRepository } from './sso.repository.js';
import { SsoService } from './sso.service.js';

/**
 * Enterprise sign-in (SAML 2.0 per team); owns `sso_connections`, `saml_requests` and
 * `saml_assertions`. Above auth: a SAML sign-in ends with auth's one-time exchange code. Auth's
 * password routes learn about enforcement from the access layer, not from this module.
 */
@Module({
  imports: [AccessModule, AuditModule, AuthModule, DomainsModule, TeamsModule, UsersModule],
  controllers: [SsoController, SamlController],
  providers: [SsoRepository, SsoService, SamlService],
  exports: [SsoService],
})
export class SsoModule {}
