import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiParam,
} from '@nestjs/swagger';
import { ErrorResponseDto } from '../../common/errors/error-response.dto.js';
import type { TeamRole as TeamRoleName } from '../../database/schema.js';
import { TEAM_ROLE_KEY, TeamRoleGuard } from './team-role.guard.js';
import { Authenticated } from '../../common/decorators/authenticated.decorator.js';

/**
 * Requires the caller to hold `role` (an owner satisfies 'member') in the route's `:teamId`
 * team. Sets the guard metadata and the matching Swagger security and error responses at once,
 * so docs and enforcement cannot drift. Usable from any module that imports TeamsModule.
 * `options.notFound` documents the route's own 404s (a child id not in this team).
 */
export function TeamRole(
  role: TeamRoleName,
  options: { notFound?: string } = {},
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(TEAM_ROLE_KEY, role),
    UseGuards(TeamRoleGuard),
    Authenticated(),
    ApiParam({ name: 'teamId', type: 'integer', description: 'Team id', example: 1 }),
    ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Invalid input or path id' }),
    ApiForbiddenResponse({
      type: ErrorResponseDto,
      description:
        role === 'owner'
          ? '`team.forbidden`: the caller is a member but not an owner of the team'
          : '`team.forbidden`: the caller lacks the team role',
    }),
    ApiNotFoundResponse({
      type: ErrorResponseDto,
      description:
        "`team.not_found`: no such team, or the caller is not a member (a team's existence is not revealed)" +
        (options.notFound === undefined ? '' : `; ${options.notFound}`),
    }),
  );
}
