import type { ApiKeyActor, ApiKeyScope } from '../../common/auth/actor.js';

/**
 * What a team API key may do on a `@TeamRole(..., { apiKey })` route of team `teamId`:
 * - `not_accepted`: the route names no scope, so it never accepts keys (401, like a bad token);
 * - `not_found`: another team's route (404 `team.not_found`, exactly like a team the caller
 *   does not belong to: a key never learns which other teams exist);
 * - `scope_missing`: its team, but the key lacks the route's scope (403 `api_key.scope_missing`);
 * - `allowed`: the scope replaces the team-role check (a key is no member and has no role).
 */
export type ApiKeyAccess = 'allowed' | 'not_accepted' | 'not_found' | 'scope_missing';

export function apiKeyAccess(
  key: Pick<ApiKeyActor, 'teamId' | 'scopes'>,
  teamId: number,
  required: ApiKeyScope | undefined,
): ApiKeyAccess {
  if (required === undefined) return 'not_accepted';
  if (key.teamId !== teamId) return 'not_found';
  if (!key.scopes.includes(required)) return 'scope_missing';
  return 'allowed';
}
