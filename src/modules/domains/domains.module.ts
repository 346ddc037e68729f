import { Module } from '@nestjs/common';
import { DomainsRepository } from './domains.repository.js';
import { DomainsService } from './domains.service.js';

/**
 * Verified domains per team; owns `team_domains`. Low in MODULE_ORDER (above access and
 * audit): SAML sign-in (auth/sso) and SCIM read verified domains through DomainsService.
 */
@Module({
  providers: [DomainsRepository, DomainsService],
  exports: [DomainsService],
})
export class DomainsModule {}
