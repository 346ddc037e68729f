import { Injectable } from '@nestjs/common';
import type { Actor, ApiKeyScope } from '../../common/auth/actor.js';
import { assertVerifiedEmail } from '../../common/auth/verified-email.js';
import { AppError } from '../../common/errors/app-error.js';
import type { TeamRole } from '../../database/schema.js';
import { decideRoleGrant, decideTeamAccess, type AccessIntent } from './access.policy.js';
import type { Standing } from './team-roles.js';
import { TeamErrors } from './teams.errors.js';
import { TeamsRepository, type Membership } from './teams.repository.js';

export interface TeamAccessOptions {
  /** The scope a team API key needs for this operation; undefined: keys are refused (401). */
  apiKey?: ApiKeyScope;
  /** `read` lets support staff through; default `write`. */
  intent?: AccessIntent;
  /**
   * Re-read the membership (inside a transaction, after locking the team): the route guard's
   * read may be stale by then. Without it, the guard's read of this request is reused.
   */
  fresh?: boolean;
  /**
   * The team role the operation gives someone (an invitation's role, a member's new role):
   * a team API key never grants `owner` (403 `api_key.role_forbidden`, API.md v1.2).
   */
  grants?: TeamRole;
  /**
   * The operation sets up lasting access (invitations, API keys): a user whose email is not
   * verified is refused with 403 `email.unverified` once the team check passed (a non-member
   * still gets the 404). See common/auth/verified-email.ts.
   */
  verifiedEmail?: boolean;
}

/**
 * The access layer: the one place that answers "may this actor do X on team T", for the
 * `@TeamRole` guard and for the services (which the admin panel calls without any guard).
 * It reads only team_members (owned by this module); an API key carries its team and scopes.
 * The decision itself is the pure `decideTeamAccess` (access.policy.ts).
 */
@Injectable()
export class AccessService {
  /** Memberships the guard read for the current request's actor, reused by its service call. */
  private readonly checked = new WeakMap<Actor, Map<number, Membership | null>>();

  constructor(private readonly teams: TeamsRepository) {}

  /**
   * The actor's standing in the team (their membership, or an owner's powers without one for
   * an admin or a key within its scope), or the coded error the decision names.
   */
  async requireTeam(
    actor: Actor,
    teamId: number,
    required: TeamRole,
    options: TeamAccessOptions = {},
  ): Promise<Standing> {
    const membership = await this.membershipOf(actor, teamId, options.fresh === true);
    const verdict = decideTeamAccess(
      actor,
      teamId,
      membership,
      required,
      options.apiKey,
      options.intent,
    );
    switch (verdict) {
      case 'allow':
        if (options.grants !== undefined && decideRoleGrant(actor, options.grants) !== 'allow') {
          throw TeamErrors.apiKeyRoleForbidden();
        }
        if (options.verifiedEmail === true) assertVerifiedEmail(actor);
        return membership
          ? { id: membership.id, role: membership.role }
          : { id: null, role: 'owner' };
      case 'not_found':
        throw TeamErrors.notFound();
      case 'forbidden':
        if (actor.kind === 'apiKey') {
          throw TeamErrors.apiKeyScopeMissing(`This API key lacks the scope "${options.apiKey}"`);
        }
        throw TeamErrors.forbidden(`This action requires the team role "${required}"`);
      case 'unauthorized':
        throw new AppError(
          'auth.unauthorized',
          401,
          'Missing, invalid, expired or revoked access token',
        );
    }
  }

  /**
   * Records a membership read for this request's actor by someone else: the auth guard reads
   * it with the principal, in the same query, on @TeamRole routes. `role` is the column's text
   * (its check constraint limits it to the TeamRole values).
   */
  remember(
    actor: Actor,
    teamId: number,
    membership: (Omit<Membership, 'role'> & { role: string }) | null,
  ): void {
    let byTeam = this.checked.get(actor);
    if (!byTeam) this.checked.set(actor, (byTeam = new Map<number, Membership | null>()));
    byTeam.set(teamId, membership && { ...membership, role: membership.role as TeamRole });
  }

  /**
   * For the route guard: checks, and remembers the read for the service call that follows.
   * The membership is read now unless the auth guard already read it for this request.
   */
  async checkRoute(
    actor: Actor,
    teamId: number,
    required: TeamRole,
    options: Omit<TeamAccessOptions, 'fresh'>,
  ): Promise<void> {
    if (this.checked.get(actor)?.get(teamId) === undefined) {
      this.remember(actor, teamId, await this.membershipOf(actor, teamId, true));
    }
    await this.requireTeam(actor, teamId, required, options);
  }

  private async membershipOf(
    actor: Actor,
    teamId: number,
    fresh: boolean,
  ): Promise<Membership | null> {
    if (actor.kind !== 'user') return null;
    const known = fresh ? undefined : this.checked.get(actor)?.get(teamId);
    if (known !== undefined) return known;
    return (await this.teams.findMembership(teamId, actor.id)) ?? null;
  }
}
