import type { Actor, ApiKeyScope } from '../../common/auth/actor.js';
import type { TeamRole } from '../../database/schema.js';
import { hasTeamRole } from './team-roles.js';

/** Whether an operation only reads (support staff may) or changes something. */
export type AccessIntent = 'read' | 'write';

/**
 * The answer to "may this actor do X on team T": allowed, or the error the caller gets.
 * - `not_found`: 404 `team.not_found` (not a member, or a key of another team: a team's
 *   existence is never revealed);
 * - `forbidden`: 403 `team.forbidden` (a member without the role, a key without the scope,
 *   support staff attempting a write);
 * - `unauthorized`: 401 (an API key on an operation that does not accept keys).
 */
export type AccessVerdict = 'allow' | 'not_found' | 'forbidden' | 'unauthorized';

/**
 * The single access decision every team route and team service asks (pure, no I/O):
 * - a user by their membership of `teamId` (`membership` null: not a member) and its role;
 * - a back-office admin (`admin`) on any team; `support` staff only to read;
 * - a team API key only on its own team, only on operations that name the scope a key needs
 *   (`apiKeyScope` undefined: keys are refused), and only if the key carries that scope.
 * `intent` matters only for support staff; it defaults to `write` (deny unless known safe).
 */
export function decideTeamAccess(
  actor: Actor,
  teamId: number,
  membership: { role: TeamRole } | null,
  required: TeamRole,
  apiKeyScope?: ApiKeyScope,
  intent: AccessIntent = 'write',
): AccessVerdict {
  switch (actor.kind) {
    case 'user':
      if (membership === null) return 'not_found';
      return hasTeamRole(membership.role, required) ? 'allow' : 'forbidden';
    case 'admin':
      if (actor.role === 'admin') return 'allow';
      return intent === 'read' ? 'allow' : 'forbidden';
    case 'apiKey':
      if (apiKeyScope === undefined) return 'unauthorized';
      if (actor.teamId !== teamId) return 'not_found';
      return actor.scopes.includes(apiKeyScope) ? 'allow' : 'forbidden';
  }
}

/**
 * Whether `actor` may give someone the team role `role` (an invitation, a role change), once
 * `decideTeamAccess` allowed the operation itself. A team API key never creates or grants
 * `owner` (API.md v1.2): a key limited to `invitations:write` or `members:write` must not be
 * able to make anyone (its holder included) an owner of the team, with the keys, billing and
 * members that come with it. Users and admins are left to the team-role checks.
 */
export function decideRoleGrant(actor: Actor, role: TeamRole): 'allow' | 'forbidden' {
  return actor.kind === 'apiKey' && role === 'owner' ? 'forbidden' : 'allow';
}
