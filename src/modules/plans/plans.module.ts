import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module.js';
import { PlansController } from './plans.controller.js';
import { PlansRepository } from './plans.repository.js';
import { PlansService } from './plans.service.js';
import { RequiresFeatureGuard } from './requires-feature.js';

/**
 * The team's plan: the plan view, the limit check (`PlansService.assertRoom`) that the
 * modules adding members, invitations, API keys and webhook endpoints ask inside their write's
 * transaction, and the `@RequiresFeature` guard. Just above the access layer, so that every
 * enforcing module reaches it without importing upwards.
 */
@Module({
  imports: [AccessModule],
  controllers: [PlansController],
  providers: [PlansRepository, PlansService, RequiresFeatureGuard],
  exports: [PlansService, RequiresFeatureGuard],
})
export class PlansModule {}
