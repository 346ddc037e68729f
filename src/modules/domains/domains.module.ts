import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { DomainsController } from './domains.controller.js';
import { DomainsRepository } from './domains.repository.js';
import { DomainsService } from './domains.service.js';
import { TxtLookup } from './txt-lookup.js';

/**
 * Verified domains per team; owns `team_domains`. Low in MODULE_ORDER (right above access and
 * audit, the only modules it imports): SAML sign-in and SCIM read verified domains through
 * DomainsService, and the admin panel lists and removes them through it.
 */
@Module({
  imports: [AccessModule, AuditModule],
  controllers: [DomainsController],
  providers: [DomainsRepository, DomainsService, TxtLookup],
  exports: [DomainsService],
})
export class DomainsModule {}
