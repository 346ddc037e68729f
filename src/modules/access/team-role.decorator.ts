import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension } from '@nestjs/swagger';
import type { ApiKeyScope } from '../../common/auth/actor.js';
import { CommonErrors } from '../../common/errors/common.errors.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { ApiIdParam } from '../../common/openapi/api-id-param.decorator.js';
import type { TeamRole as TeamRoleName } from '../../database/schema.js';
import {
  API_KEY_SCOPE_EXTENSION,
  API_KEY_SECURITY,
} from '../../common/openapi/api-key-security.js';
import { TEAM_ROLE_KEY, TeamRoleGuard, type TeamRoleRequirement } from './team-role.guard.js';
import { AccessErrors } from './access.errors.js';
import { Authenticated } from '../../common/decorators/authenticated.decorator.js';

export interface TeamRoleOptions {
  /**
   * Also accept a team API key (`nsk_…`) of this team carrying this scope; the scope then
   * replaces the role check. Without it the route refuses keys (401).
   */
  apiKey?: ApiKeyScope;
}

/**
 * Requires the caller to hold `role` (an owner satisfies 'member') in the route's `:teamId`
 * team, or, with `{ apiKey: scope }`, to be a key of that team with that scope. Sets the guard
 * metadata and the matching Swagger security and error responses at once, so docs and
 * enforcement cannot drift. Usable from any module that imports AccessModule.
 * The route's own errors (a child id not in this team, ...) go in its `@ApiErrors(...)`.
 * The decision is the access layer's (access.policy.ts); the global auth guard reads the same
 * requirement's `apiKey` to refuse keys before any lookup on routes that do not accept them.
 */
export function TeamRole(
  role: TeamRoleName,
  options: TeamRoleOptions = {},
): MethodDecorator & ClassDecorator {
  const requirement: TeamRoleRequirement = { role, apiKey: options.apiKey };
  const keyDecorators =
    options.apiKey === undefined
      ? []
      : [
          ApiBearerAuth(API_KEY_SECURITY),
          ApiExtension(API_KEY_SCOPE_EXTENSION, options.apiKey),
          // A key without the scope gets a 403; every key is rate limited.
          ApiErrors(AccessErrors.apiKeyScopeMissing, CommonErrors.rateLimited),
        ];
  return applyDecorators(
    SetMetadata(TEAM_ROLE_KEY, requirement),
    UseGuards(TeamRoleGuard),
    Authenticated(),
    ...keyDecorators,
    ApiIdParam('teamId', 'Team id'),
    // A member always satisfies 'member': only owner routes answer the guard's 403.
    ApiErrors(...(role === 'owner' ? [AccessErrors.forbidden] : []), AccessErrors.notFound),
  );
}
