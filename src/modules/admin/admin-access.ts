import type { CurrentAdmin } from 'adminjs';
import { isStaffRole } from '../../common/auth/staff.js';

/**
 * The one check for read-only back-office features (dashboard, lists, exports): a signed-in
 * panel user whose session carries a staff role, `admin` or the read-only `support`
 * (AdminAuthService puts users.role into the session; the session store refreshes it on every
 * request). Writes stay with `admin` (admin.resources.ts `adminOnlyWrites`).
 */
export function canReadBackOffice(currentAdmin: CurrentAdmin | undefined | null): boolean {
  return isStaffRole((currentAdmin as { role?: unknown } | undefined | null)?.role);
}
