import type { CurrentAdmin } from 'adminjs';

/**
 * System roles that may read the back office (dashboard, lists, exports). `support` is the
 * read-only role of issue 16; writes stay with `admin` (checked by each write action).
 */
export const BACK_OFFICE_READ_ROLES: ReadonlySet<string> = new Set(['admin', 'support']);

/**
 * The one check for read-only back-office features: a signed-in panel user whose session
 * carries a reading role (AdminAuthService puts users.role into the session at sign-in).
 */
export function canReadBackOffice(currentAdmin: CurrentAdmin | undefined | null): boolean {
  const role = (currentAdmin as { role?: unknown } | undefined | null)?.role;
  return typeof role === 'string' && BACK_OFFICE_READ_ROLES.has(role);
}
