import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../../common/errors/app-error.js';

export const AuthErrors = defineErrors({
  unauthorized: {
    code: 'auth.unauthorized',
    status: HttpStatus.UNAUTHORIZED,
    message: 'Missing, invalid, expired or revoked access token',
  },
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
  // Owned by invitations once that module exists; sign-up answers it until then.
  invitationInvalidToken: {
    code: 'invitation.invalid_token',
    status: HttpStatus.BAD_REQUEST,
    message: 'The invitation is invalid, expired or not addressed to this email',
  },
});
