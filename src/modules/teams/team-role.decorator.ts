import type { ApiKeyScope } from '../../common/auth/actor.js';
import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { ApiIdParam } from '../../common/openapi/api-id-param.decorator.js';
import type { TeamRole as TeamRoleName } from '../../database/schema.js';
import { TEAM_ROLE_KEY, TeamRoleGuard, type TeamRoleRequirement } from './team-role.guard.js';
import { TeamErrors } from './teams.errors.js';
import { Authenticated } from '../../common/decorators/authenticated.decorator.js';

/**
 * Requires the caller to hold `role` (an owner satisfies 'member') in the route's `:teamId`
 * team. Sets the guard metadata and the matching Swagger security and error responses at once,
 * so docs and enforcement cannot drift. Usable from any module that imports TeamsModule.
 * The route's own errors (a child id not in this team, ...) go in its `@ApiErrors(...)`.
 *
 * `options.apiKey` names the scope a team API key needs on this route; routes without it
 * refuse keys (401). The decision is the access layer's (access.policy.ts).
 */
export function TeamRole(
  role: TeamRoleName,
  options: { apiKey?: ApiKeyScope } = {},
): MethodDecorator & ClassDecorator {
  const requirement: TeamRoleRequirement = { role, apiKey: options.apiKey };
  return applyDecorators(
    SetMetadata(TEAM_ROLE_KEY, requirement),
    UseGuards(TeamRoleGuard),
    Authenticated(),
    ApiIdParam('teamId', 'Team id'),
    // A member always satisfies 'member': only owner routes answer the guard's 403.
    ApiErrors(...(role === 'owner' ? [TeamErrors.forbidden] : []), TeamErrors.notFound),
  );
}
