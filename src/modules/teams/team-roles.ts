import type { TeamRole } from '../../database/schema.js';
import { hasTeamRole, type Standing } from '../access/access.policy.js';

export interface MembershipRef {
  id: number;
  userId: number;
  role: TeamRole;
}

export type MemberChangeVerdict = 'allowed' | 'forbidden' | 'last_owner';

/**
 * Whether `actor` may remove `target` from the team (owners remove anyone; a member may remove
 * only themself, i.e. leave), given how many owners the team has right now. A caller with no
 * membership of its own (`id: null`: an admin, a team API key with `members:write`) acts with
 * an owner's powers; the last owner stays protected from it too.
 */
export function canRemoveMember(
  actor: Standing,
  target: MembershipRef,
  ownerCount: number,
): MemberChangeVerdict {
  if (actor !== null && actor.id !== target.id && !hasTeamRole(actor.role, 'owner')) {
    return 'forbidden';
  }
  if (target.role === 'owner' && ownerCount <= 1) return 'last_owner';
  return 'allowed';
}

/**
 * Whether `actor` may give `target` the role `next`; the team never loses its last owner.
 * A caller with `id: null` (admin, API key) has an owner's powers (see canRemoveMember).
 */
export function canChangeRole(
  actor: Standing,
  target: MembershipRef,
  next: TeamRole,
  ownerCount: number,
): MemberChangeVerdict {
  if (actor !== null && !hasTeamRole(actor.role, 'owner')) return 'forbidden';
  if (target.role === 'owner' && next !== 'owner' && ownerCount <= 1) return 'last_owner';
  return 'allowed';
}
