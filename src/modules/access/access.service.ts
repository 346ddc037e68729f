import { Injectable } from '@nestjs/common';
import { domainToASCII } from 'node:url';
import type { Actor } from '../../common/auth/actor.js';
import { StaffErrors } from '../../common/auth/staff.js';
import { VerifiedEmailErrors } from '../../common/auth/verified-email.js';
import { UnauthorizedErrors } from '../../common/auth/unauthorized.js';
import type { TeamRole } from '../../database/schema.js';
import { AccessErrors } from './access.errors.js';
import {
  decideAccountWrite,
  decideRoleGrant,
  decideTeamAccess,
  TEAM_ACTIONS,
  type AccessVerdict,
  type Standing,
  type TeamAction,
  type TeamRule,
} from './access.policy.js';
import { AccessRepository, type TeamMembership } from './access.repository.js';

/**
 * The access layer: the one place that answers "may this actor do X on team T" (and "may it
 * change this account"), for the `@TeamRole` route guard and for every service, which asks it
 * first with the actor it was given (the admin panel calls services without any guard). The
 * decision is the pure policy (access.policy.ts); this service only reads memberships
 * (AccessRepository) and turns a refusal into its coded error.
 */
@Injectable()
export class AccessService {
  /**
   * The membership the route guard read for a request's actor (each request has its own actor
   * object), so that the service's read check in the same request does not read it again.
   */
  private readonly routeReads = new WeakMap<Actor, Map<number, TeamMembership | null>>();

  constructor(private readonly memberships: AccessRepository) {}

  /**
   * The actor's standing in the team (their membership, or an owner's powers without one for
   * an admin or a key within its scope), or the coded error the policy names. A read may reuse
   * the route guard's read of this request; a write decides on a fresh read (inside the
   * service's transaction, after its locks). `grants`: the team role the operation gives
   * someone (an invitation's role, a member's new role).
   */
  async requireTeam(
    actor: Actor,
    teamId: number,
    action: TeamAction,
    options: { grants?: TeamRole } = {},
  ): Promise<Standing> {
    const rule: TeamRule = TEAM_ACTIONS[action];
    const known = rule.intent === 'read' ? this.routeReads.get(actor) : undefined;
    const membership =
      known?.has(teamId) === true
        ? (known.get(teamId) ?? null)
        : await this.membershipOf(actor, teamId);
    this.enforce(actor, rule, decideTeamAccess(actor, teamId, membership, rule));
    if (options.grants !== undefined && decideRoleGrant(actor, options.grants) !== 'allow') {
      throw AccessErrors.apiKeyRoleForbidden();
    }
    return membership ?? { id: null, role: 'owner' };
  }

  /**
   * For the `@TeamRole` guard: the same decision on the route's own rule, on a fresh read,
   * kept for the service call of the same request.
   */
  async checkRoute(actor: Actor, teamId: number, rule: TeamRule): Promise<void> {
    const membership = await this.membershipOf(actor, teamId);
    if (actor.kind === 'user') {
      let byTeam = this.routeReads.get(actor);
      if (!byTeam) this.routeReads.set(actor, (byTeam = new Map<number, TeamMembership | null>()));
      byTeam.set(teamId, membership);
    }
    this.enforce(actor, rule, decideTeamAccess(actor, teamId, membership, rule));
  }

  /**
   * Whether password sign-in and reset are closed for this (normalised) email because its
   * domain is verified by a team that enforces its SSO connection. Back-office sign-in does
   * not ask.
   */
  async ssoEnforcedFor(email: string): Promise<boolean> {
    // team_domains holds lower-case A-labels (the domains module's canonical form; that module
    // sits above this one, so its helper is not imported here).
    const domain = domainToASCII(email.slice(email.lastIndexOf('@') + 1)).toLowerCase();
    if (domain === '') return false;
    return this.memberships.ssoEnforcedForDomain(domain);
  }

  /** A change to a user account outside any team (see `decideAccountWrite`). */
  requireAccountWrite(actor: Actor): void {
    this.enforce(actor, undefined, decideAccountWrite(actor));
  }

  private membershipOf(actor: Actor, teamId: number): Promise<TeamMembership | null> {
    return actor.kind === 'user'
      ? this.memberships.findMembership(teamId, actor.id)
      : Promise.resolve(null);
  }

  private enforce(actor: Actor, rule: TeamRule | undefined, verdict: AccessVerdict): void {
    switch (verdict) {
      case 'allow':
        return;
      case 'not_found':
        throw AccessErrors.notFound();
      case 'forbidden':
        if (actor.kind === 'apiKey') {
          throw AccessErrors.apiKeyScopeMissing(`This API key lacks the scope "${rule?.apiKey}"`);
        }
        throw AccessErrors.forbidden(`This action requires the team role "${rule?.role}"`);
      case 'read_only':
        throw StaffErrors.readOnly();
      case 'unverified':
        throw VerifiedEmailErrors.emailUnverified();
      case 'unauthorized':
        throw UnauthorizedErrors.unauthorized();
    }
  }
}
