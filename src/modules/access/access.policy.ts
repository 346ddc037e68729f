import type { Actor, ApiKeyScope } from '../../common/auth/actor.js';
import type { TeamRole } from '../../database/schema.js';

/** Roles ordered by power: an owner may do everything a member may. */
const RANK: Record<TeamRole, number> = { member: 1, owner: 2 };

export function hasTeamRole(actual: TeamRole, required: TeamRole): boolean {
  return RANK[actual] >= RANK[required];
}

/**
 * How the caller stands in the team: a user's own membership, or (an admin, a team API key
 * within its scope) `id: null` with an owner's powers and no membership of its own.
 */
export interface Standing {
  id: number | null;
  role: TeamRole;
}

/** Whether an operation only reads (support staff may) or changes something. */
export type AccessIntent = 'read' | 'write';

/** What an operation on a team asks of its caller. */
export interface TeamRule {
  /** The team role a user needs (an owner satisfies 'member'). */
  role: TeamRole;
  /** The scope a team API key needs; undefined: keys are refused (401). */
  apiKey?: ApiKeyScope;
  /** `read` lets support staff through; default `write` (deny unless known safe). */
  intent?: AccessIntent;
  /**
   * The operation sets up lasting access (invitations, API keys, webhook endpoints): a user
   * whose email is not verified is refused with 403 `email.unverified` once the team check
   * passed (a non-member still gets the 404). See common/auth/verified-email.ts.
   */
  verifiedEmail?: boolean;
  /**
   * Only back-office staff may do it (an `admin`; `support` too when it only reads): team
   * members get 403 `team.forbidden` (non-members the 404), API keys 401.
   */
  backOffice?: boolean;
}

/**
 * Every operation on a team, by name, and what it asks. Services name theirs when they ask
 * the access layer; a new module (plans, SAML, SCIM) adds its operations here.
 */
export const TEAM_ACTIONS = {
  'team.read': { role: 'member', apiKey: 'team:read', intent: 'read' },
  'team.update': { role: 'owner' },
  'activity.read': { role: 'owner', apiKey: 'activity:read', intent: 'read' },
  // Back office only: API users join by invitation.
  'members.add': { role: 'owner' },
  'members.update': { role: 'owner', apiKey: 'members:write' },
  // A member may remove themself (leave); who may remove whom is team-roles.ts's rule.
  'members.remove': { role: 'member', apiKey: 'members:write' },
  'invitations.read': { role: 'owner', apiKey: 'invitations:write', intent: 'read' },
  'invitations.create': { role: 'owner', apiKey: 'invitations:write', verifiedEmail: true },
  'invitations.revoke': { role: 'owner', apiKey: 'invitations:write' },
  // Keys never manage keys.
  'apiKeys.read': { role: 'owner', intent: 'read' },
  'apiKeys.create': { role: 'owner', verifiedEmail: true },
  'apiKeys.revoke': { role: 'owner' },
  'webhooks.read': { role: 'owner', apiKey: 'webhooks:write', intent: 'read' },
  'webhooks.create': { role: 'owner', apiKey: 'webhooks:write', verifiedEmail: true },
  'webhooks.update': { role: 'owner', apiKey: 'webhooks:write' },
  'billing.manage': { role: 'owner' },
  // The plan view (GET /teams/:teamId/plan): as readable as the team itself.
  'plan.read': { role: 'member', apiKey: 'team:read', intent: 'read' },
  // An admin's limits for a deal made outside Stripe (the back office): never the team's own
  // owners; support staff may read them, not change them.
  'plan.override': { role: 'owner', backOffice: true },
  // Verified domains (API.md v1.2): owners with an access token, never a key. A verified
  // domain lets its addresses in by SAML and SCIM: claiming and proving one sets up access.
  'domains.read': { role: 'owner', intent: 'read' },
  'domains.add': { role: 'owner', verifiedEmail: true },
  'domains.verify': { role: 'owner', verifiedEmail: true },
  'domains.remove': { role: 'owner' },
  // Invoices carry amounts and payment links: owners only, support staff may read them.
  'billing.invoices.read': { role: 'owner', intent: 'read' },
  'billing.cancel': { role: 'owner' },
  'billing.resume': { role: 'owner' },
  // Directory sync (SCIM): owners only, never a key; a token provisions members for as long
  // as it lives, so creating one needs a verified email, like an API key.
  'scim.read': { role: 'owner', intent: 'read' },
  'scim.create': { role: 'owner', verifiedEmail: true },
  'scim.update': { role: 'owner' },
  'scim.revoke': { role: 'owner' },
  // SAML connections: owners only, never keys (a key must not redirect the team's sign-in).
  'sso.read': { role: 'owner', intent: 'read' },
  // Sets up lasting access (an IdP that signs people in): a verified owner only.
  'sso.create': { role: 'owner', verifiedEmail: true },
  // PATCH, DELETE, and the back office's disable/enable.
  'sso.update': { role: 'owner' },
} as const satisfies Record<string, TeamRule>;

export type TeamAction = keyof typeof TEAM_ACTIONS;

/**
 * The answer to "may this actor do X": allowed, or the error the caller gets.
 * - `not_found`: 404 `team.not_found` (not a member, or a key of another team: a team's
 *   existence is never revealed);
 * - `forbidden`: 403 `team.forbidden` (a member without the role, support staff attempting a
 *   team write) or `api_key.scope_missing` (a key without the scope);
 * - `read_only`: 403 `admin.read_only` (support staff changing an account);
 * - `unverified`: 403 `email.unverified`;
 * - `unauthorized`: 401 (an API key on an operation that does not accept keys).
 */
export type AccessVerdict =
  'allow' | 'not_found' | 'forbidden' | 'read_only' | 'unverified' | 'unauthorized';

/**
 * The single access decision on a team (pure, no I/O), for every team route and service:
 * - a user by their membership of `teamId` (`membership` null: not a member) and its role;
 * - a back-office admin (`admin`) on any team; `support` staff only to read;
 * - a team API key only on its own team, only on operations that name the scope a key needs,
 *   and only if the key carries that scope.
 * Then, for operations that set up lasting access, a user needs a verified email.
 */
export function decideTeamAccess(
  actor: Actor,
  teamId: number,
  membership: { role: TeamRole } | null,
  rule: TeamRule,
): AccessVerdict {
  switch (actor.kind) {
    case 'user':
      if (membership === null) return 'not_found';
      if (rule.backOffice === true || !hasTeamRole(membership.role, rule.role)) return 'forbidden';
      return rule.verifiedEmail === true && !actor.emailVerified ? 'unverified' : 'allow';
    case 'admin':
      return actor.role === 'admin' || rule.intent === 'read' ? 'allow' : 'forbidden';
    case 'apiKey':
      if (rule.apiKey === undefined || rule.backOffice === true) return 'unauthorized';
      if (actor.teamId !== teamId) return 'not_found';
      return actor.scopes.includes(rule.apiKey) ? 'allow' : 'forbidden';
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

/**
 * A change to a user account outside any team (the back office's user actions, account
 * deletion): users act on their own account (the routes only name theirs), an `admin` on any,
 * `support` staff never (403 `admin.read_only`), team API keys never (401).
 */
export function decideAccountWrite(actor: Actor): AccessVerdict {
  switch (actor.kind) {
    case 'user':
      return 'allow';
    case 'admin':
      return actor.role === 'admin' ? 'allow' : 'read_only';
    case 'apiKey':
      return 'unauthorized';
  }
}
