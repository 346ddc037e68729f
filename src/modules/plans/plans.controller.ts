import { Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Actor } from '../../common/auth/actor.js';
import { CurrentActor } from '../../common/decorators/current-actor.decorator.js';
import { TeamRole } from '../access/team-role.decorator.js';
import { PlanViewDto } from './plans.dto.js';
import { PlansService } from './plans.service.js';
import { IdParam } from '../../common/http/parse-id.pipe.js';
import { TeamController } from '../access/team-controller.decorator.js';

@TeamController('teams', 'plan')
export class PlansController {
  constructor(private readonly plans: PlansService) {}

  @Get()
  @TeamRole('member', { apiKey: 'team:read' })
  @ApiOperation({
    summary: "The team's plan: product, status, seats, limits, usage and features",
    description:
      "Any member. `limits` are the ones in force: a back-office override wins, else the live subscription's product metadata (`max_members`, `max_api_keys`, `max_webhooks`; absent = null = unlimited), else the free plan (`FREE_PLAN_LIMITS`). Adding past a limit answers 402 `plan.limit_reached`; a lowered plan never removes anything, so `usage` may exceed `limits`.",
  })
  @ApiOkResponse({ type: PlanViewDto })
  get(@CurrentActor() actor: Actor, @IdParam('teamId') teamId: number): Promise<PlanViewDto> {
    return this.plans.view(actor, teamId);
  }
}
