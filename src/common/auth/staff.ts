import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../errors/app-error.js';
import type { Actor } from './actor.js';

/** Errors of the back-office roles (the admin panel renders them as its 403). */
export const StaffErrors = defineErrors({
  readOnly: {
    code: 'admin.read_only',
    status: HttpStatus.FORBIDDEN,
    message: 'Support staff have read-only access to the back office',
  },
});

/** Back-office system roles: who may enter /admin. */
export const STAFF_ROLES = ['admin', 'support'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export function isStaffRole(role: unknown): role is StaffRole {
  return role === 'admin' || role === 'support';
}

/**
 * The services' own check for back-office writes: an `admin` actor of role `support` is
 * refused (403 `admin.read_only`), whatever path of the panel called; users and API keys pass
 * (the route guards decide for them). Call it first in every service method that changes data,
 * can be reached with an AdminActor and is not already decided by the team access layer
 * (`decideTeamAccess` refuses support writes with 403 `team.forbidden`).
 */
export function assertMayWrite(actor: Actor): void {
  if (actor.kind === 'admin' && actor.role !== 'admin') throw StaffErrors.readOnly();
}
