import { HttpStatus } from '@nestjs/common';
import { EMAIL_UNVERIFIED } from '../../common/auth/verified-email.js';
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
    message: 'Send at least one of name, email, locale',
  },
  // Raised by the auth guard (EMAIL_VERIFICATION=required), by invitations by address and by
  // the operations that set up lasting access (see common/auth/verified-email.ts, which holds
  // the definition for the services that sit below this module).
  emailUnverified: EMAIL_UNVERIFIED,
  lastOwner: {
    code: 'user.last_owner',
    status: HttpStatus.CONFLICT,
    message:
      'You are the last owner of a team that still has other members: make another member owner or remove them first',
  },
});
