import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { ApiKeyScope } from '../../common/auth/actor.js';
import type { AuthUser } from '../../common/auth/auth-user.js';
import type { RequestWithActor } from '../../common/decorators/current-actor.decorator.js';
import { parseId } from '../../common/ids.js';
import { invalidIdError } from '../../common/http/parse-id.pipe.js';
import type { TeamRole } from '../../database/schema.js';
import { apiKeyAccess } from './api-key-access.js';
import { hasTeamRole } from './team-roles.js';
import { TeamErrors } from './teams.errors.js';
import { TeamsRepository } from './teams.repository.js';

export const TEAM_ROLE_KEY = 'teamRole';
/** The scope a team API key needs on the route (`@TeamRole(role, { apiKey })`); unset: no keys. */
export const TEAM_API_KEY_SCOPE_KEY = 'teamApiKeyScope';

/**
 * Enforces `@TeamRole(...)` on routes with a `:teamId` parameter. The caller's membership is
 * read from the database on every request (never from token claims): not a member → 404
 * `team.not_found` (exactly like a team that does not exist), a member without the role →
 * 403 `team.forbidden`. A team API key (request.actor of kind `apiKey`) is decided by
 * `apiKeyAccess` instead: another team → 404, a missing scope → 403 `api_key.scope_missing`.
 */
@Injectable()
export class TeamRoleGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly teams: TeamsRepository,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const required = this.reflector.getAllAndOverride<TeamRole | undefined>(TEAM_ROLE_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (required === undefined) return true;
    const request = context
      .switchToHttp()
      .getRequest<Request & RequestWithActor & { user?: AuthUser }>();
    // Guards run before pipes, so the id is validated here (400, never a driver error).
    const teamId = parseId(request.params.teamId);
    if (teamId === undefined) throw invalidIdError('teamId');
    if (request.actor?.kind === 'apiKey') {
      const scope = this.reflector.getAllAndOverride<ApiKeyScope | undefined>(
        TEAM_API_KEY_SCOPE_KEY,
        [context.getHandler(), context.getClass()],
      );
      const access = apiKeyAccess(request.actor, teamId, scope);
      switch (access) {
        case 'allowed':
          return true;
        case 'scope_missing':
          throw TeamErrors.apiKeyScopeMissing(`This API key lacks the scope "${scope}"`);
        case 'not_found':
          throw TeamErrors.notFound();
        case 'not_accepted':
          // The global auth guard already refuses keys here (401); never let one through.
          throw new Error('A team API key reached a route that does not accept keys');
      }
    }
    // The global auth guard runs first; a @TeamRole route is never @Public().
    if (!request.user) throw TeamErrors.notFound();
    const membership = await this.teams.findMembership(teamId, request.user.id);
    if (!membership) throw TeamErrors.notFound();
    if (!hasTeamRole(membership.role, required)) {
      throw TeamErrors.forbidden(`This action requires the team role "${required}"`);
    }
    return true;
  }
}
