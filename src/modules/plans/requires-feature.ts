import {
  applyDecorators,
  Injectable,
  SetMetadata,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiExtension } from '@nestjs/swagger';
import type { RequestWithActor } from '../../common/decorators/current-actor.decorator.js';
import { invalidIdError } from '../../common/http/parse-id.pipe.js';
import { parseId } from '../../common/ids.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { AccessErrors } from '../access/access.errors.js';
import { PlanErrors } from './plans.errors.js';
import { PlansService } from './plans.service.js';

export const REQUIRED_FEATURE_KEY = 'requiredFeature';
/** The OpenAPI extension naming the feature a route requires. */
export const REQUIRED_FEATURE_EXTENSION = 'x-required-feature';

/**
 * Refuses a `:teamId` route with 403 `plan.feature_required` (`details: [{feature}]`) unless
 * the team's active entitlements (`teams.features`, kept from Stripe's entitlements webhook)
 * include the lookup key. A team that does not exist answers 404 `team.not_found`.
 */
@Injectable()
export class RequiresFeatureGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly plans: PlansService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const feature = this.reflector.getAllAndOverride<string | undefined>(REQUIRED_FEATURE_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (feature === undefined) return true;
    const request = context.switchToHttp().getRequest<RequestWithActor>();
    const teamId = parseId(request.params.teamId);
    if (teamId === undefined) throw invalidIdError('teamId');
    const features = await this.plans.featuresOf(teamId);
    if (features === undefined) throw AccessErrors.notFound();
    if (!features.includes(feature)) {
      throw PlanErrors.featureRequired(undefined, [
        { feature, message: `The team's plan does not include "${feature}"` },
      ]);
    }
    return true;
  }
}

/**
 * Gates a `:teamId` route behind a Stripe entitlement: the team needs the feature's lookup key
 * among its active entitlements, else 403 `plan.feature_required`. Write it above `@TeamRole`
 * (Nest runs the guards of the lower decorator first), so that membership is decided first
 * and a non-member still gets the 404 that never reveals the team:
 *
 *     @Post()
 *     @RequiresFeature('sso')
 *     @TeamRole('owner')
 *
 * The module declaring the route imports PlansModule. No v1.2 route requires a feature.
 */
export function RequiresFeature(feature: string): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(REQUIRED_FEATURE_KEY, feature),
    UseGuards(RequiresFeatureGuard),
    ApiExtension(REQUIRED_FEATURE_EXTENSION, feature),
    ApiErrors(PlanErrors.featureRequired),
  );
}
