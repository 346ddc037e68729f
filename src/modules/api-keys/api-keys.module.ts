import { Module } from '@nestjs/common';
import { RateLimitModule } from '../../common/rate-limit/rate-limit.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { AccessModule } from '../access/access.module.js';
import { PlansModule } from '../plans/plans.module.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { ApiKeysService } from './api-keys.service.js';

/**
 * Team API keys; owns `api_keys`. Sits above the access layer (its routes use `@TeamRole`) and below auth,
 * whose global guard calls `ApiKeysService.authenticate` for `nsk_` bearers, and admin.
 */
@Module({
  imports: [AccessModule, AuditModule, PlansModule, RateLimitModule],
  controllers: [ApiKeysController],
  providers: [ApiKeysRepository, ApiKeysService],
  exports: [ApiKeysService],
})
export class ApiKeysModule {}
