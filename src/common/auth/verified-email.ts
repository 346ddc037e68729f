import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../errors/app-error.js';
import type { Actor } from './actor.js';

/**
 * `email.unverified`, the one definition: the users module's catalogue (UserErrors) lists it
 * for the auth guard and invitations by address; services below the users module (webhooks)
 * raise it through `assertVerifiedEmail`.
 */
export const EMAIL_UNVERIFIED = {
  code: 'email.unverified',
  status: HttpStatus.FORBIDDEN,
  message:
    'Verify your email address first (see POST /auth/verify-email/resend): sending and answering invitations, creating API keys and webhook endpoints and enabling two-factor sign-in need a verified email, and with EMAIL_VERIFICATION=required so does every route but GET /users/me, the resend and sign-out',
} as const;

export const VerifiedEmailErrors = defineErrors({ emailUnverified: EMAIL_UNVERIFIED });

/**
 * Whether the actor may set up lasting access to an account or a team (send invitations,
 * create API keys or webhook endpoints, enable TOTP): a user only once their email is verified,
 * since anyone can sign up with someone else's address and stay unverified (pre-account
 * hijacking, API.md v1.2). Back-office staff are vetted users; a team API key acts for a
 * creator who was verified when making it (keys made before this rule by an unverified account
 * are revoked by that account's password reset).
 */
export function hasVerifiedEmail(actor: Actor): boolean {
  switch (actor.kind) {
    case 'user':
      return actor.emailVerified;
    case 'admin':
    case 'apiKey':
      return true;
  }
}

/** Throws 403 `email.unverified` unless `hasVerifiedEmail(actor)`. */
export function assertVerifiedEmail(actor: Actor): void {
  if (!hasVerifiedEmail(actor)) throw VerifiedEmailErrors.emailUnverified();
}
