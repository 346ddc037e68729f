import { HttpStatus } from '@nestjs/common';
import { UnauthorizedErrors } from '../../common/auth/unauthorized.js';
import { defineErrors } from '../../common/errors/app-error.js';

export const AuthErrors = {
  ...UnauthorizedErrors,
  ...defineErrors({
    invalidCredentials: {
      // One message for unknown email, wrong password and deleted account (no enumeration).
      code: 'auth.invalid_credentials',
      status: HttpStatus.UNAUTHORIZED,
      message: 'Invalid email or password',
    },
    invalidRefreshToken: {
      code: 'auth.invalid_refresh_token',
      status: HttpStatus.UNAUTHORIZED,
      message: 'The refresh token is invalid, expired or revoked',
    },
    invalidResetToken: {
      code: 'auth.invalid_reset_token',
      status: HttpStatus.BAD_REQUEST,
      message: 'The password reset link is invalid, used or expired',
    },
    invalidVerificationToken: {
      code: 'email.invalid_token',
      status: HttpStatus.BAD_REQUEST,
      message: 'The verification link is invalid, used or expired',
    },
    userNotFound: {
      // The back office's support actions on a user that is deleted or never existed.
      code: 'user.not_found',
      status: HttpStatus.NOT_FOUND,
      message: 'No such active user',
    },
    emailAlreadyVerified: {
      code: 'email.already_verified',
      status: HttpStatus.CONFLICT,
      message: 'This email address is already verified',
    },
    ssoRequired: {
      // API.md v1.2 "SSO enforcement": details carry `[{ssoUrl}]`.
      code: 'auth.sso_required',
      status: HttpStatus.FORBIDDEN,
      message: 'Your organization requires signing in with its identity provider (SSO)',
    },
    wrongPassword: {
      code: 'auth.wrong_password',
      status: HttpStatus.BAD_REQUEST,
      message: 'The password is incorrect',
    },
    sessionNotFound: {
      // Also for another user's session: never reveal that it exists.
      code: 'session.not_found',
      status: HttpStatus.NOT_FOUND,
      message: 'No such session of yours',
    },
    invalidMfaToken: {
      code: 'auth.invalid_mfa_token',
      status: HttpStatus.UNAUTHORIZED,
      message: 'The sign-in step has expired or was already completed; sign in again',
    },
    invalidMfaCode: {
      // Wrong, expired, replayed TOTP code or an unknown/used recovery code: one answer.
      code: 'auth.invalid_mfa_code',
      status: HttpStatus.UNAUTHORIZED,
      message: 'The two-factor code is invalid or was already used',
    },
    mfaWrongCode: {
      // The signed-in MFA settings routes: a 400 (the access token itself is fine).
      code: 'mfa.invalid_code',
      status: HttpStatus.BAD_REQUEST,
      message: 'The two-factor code is invalid or was already used',
    },
    mfaAlreadyEnabled: {
      code: 'mfa.already_enabled',
      status: HttpStatus.CONFLICT,
      message: 'Two-factor sign-in is already on; turn it off first to enrol again',
    },
    mfaNotPending: {
      code: 'mfa.not_pending',
      status: HttpStatus.CONFLICT,
      message: 'No enrolment to confirm: start one with POST /users/me/mfa/totp',
    },
    mfaNotEnabled: {
      code: 'mfa.not_enabled',
      status: HttpStatus.CONFLICT,
      message: 'Two-factor sign-in is not on',
    },
    // Owned by invitations once that module exists; sign-up answers it until then.
    invitationInvalidToken: {
      code: 'invitation.invalid_token',
      status: HttpStatus.BAD_REQUEST,
      message: 'The invitation is invalid, expired or not addressed to this email',
    },
  }),
};
