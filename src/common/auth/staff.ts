import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../errors/app-error.js';

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
