import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ApiKeyScope } from '../../common/auth/actor.js';
import type { RequestWithActor } from '../../common/decorators/current-actor.decorator.js';
import { parseId } from '../../common/ids.js';
import { invalidIdError } from '../../common/http/parse-id.pipe.js';
import type { TeamRole } from '../../database/schema.js';
import { AccessService } from './access.service.js';
import { AccessErrors } from './access.errors.js';

export const TEAM_ROLE_KEY = 'teamRole';

/** What `@TeamRole(role, { apiKey })` stores on a route. */
export interface TeamRoleRequirement {
  role: TeamRole;
  /** The scope a team API key needs on this route; undefined: keys are refused (401). */
  apiKey?: ApiKeyScope;
}

/**
 * Enforces `@TeamRole(...)` on routes with a `:teamId` parameter through the access layer
 * (AccessService, the same decision the services take again when the route calls them). A user's membership is read from the
 * database on every request (never from token claims): not a member → 404 `team.not_found`
 * (exactly like a team that does not exist), a member without the role → 403
 * `team.forbidden`. A team API key: another team → 404, missing scope → 403, a route that
 * does not accept keys → 401. GET/HEAD routes count as reads (support staff may read).
 */
@Injectable()
export class TeamRoleGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly access: AccessService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const required = this.reflector.getAllAndOverride<TeamRoleRequirement | undefined>(
      TEAM_ROLE_KEY,
      [context.getHandler(), context.getClass()],
    );
    if (required === undefined) return true;
    const request = context.switchToHttp().getRequest<RequestWithActor>();
    // Guards run before pipes, so the id is validated here (400, never a driver error).
    const teamId = parseId(request.params.teamId);
    if (teamId === undefined) throw invalidIdError('teamId');
    // The global auth guard runs first; a @TeamRole route is never @Public().
    if (!request.actor) throw AccessErrors.notFound();
    await this.access.checkRoute(request.actor, teamId, {
      ...required,
      intent: request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write',
    });
    return true;
  }
}
