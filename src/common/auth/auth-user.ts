import type { SystemRole } from '../../database/schema.js';

/**
 * The authenticated principal, re-read from the database on every request by the global
 * auth guard (never taken from token claims beyond `sub` and `sid`).
 */
export interface AuthUser {
  id: number;
  email: string;
  name: string | null;
  role: SystemRole;
  /**
   * Whether `email` is verified (users.email_verified_at set). An unverified address is not
   * treated as the user's: no invitations by address, and with EMAIL_VERIFICATION=required
   * almost no routes.
   */
  emailVerified: boolean;
  /**
   * users.locale: the language of the user's mails, and of error messages when the request's
   * Accept-Language names no supported one. Any text (a language may be retired); readers
   * check it with `isLocale`.
   */
  locale: string;
  /** The session (`sid` claim) the access token belongs to. */
  sessionId: string;
  /** The client address (honours TRUST_PROXY), recorded in activity logs. */
  ip: string | null;
}
