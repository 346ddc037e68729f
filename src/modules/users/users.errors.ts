import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../../common/errors/app-error.js';

export const UserErrors = defineErrors({
  emailTaken: {
    code: 'user.email_taken',
    status: HttpStatus.CONFLICT,
    message: 'This email address is already in use',
  },
  emptyUpdate: {
    code: 'user.empty_update',
    status: HttpStatus.BAD_REQUEST,
    message: 'Send at least one of name, email',
  },
  // Raised by the auth guard (EMAIL_VERIFICATION=required) and by invitations by address; here
  // because both sit above users and an address being verified is a fact about the user.
  emailUnverified: {
    code: 'email.unverified',
    status: HttpStatus.FORBIDDEN,
    message:
      'Verify your email address first (see POST /auth/verify-email/resend); invitations by address, and with EMAIL_VERIFICATION=required every route but GET /users/me, the resend and sign-out, need a verified email',
  },
  lastOwner: {
    code: 'user.last_owner',
    status: HttpStatus.CONFLICT,
    message:
      'You are the last owner of a team that still has other members: make another member owner or remove them first',
  },
});
