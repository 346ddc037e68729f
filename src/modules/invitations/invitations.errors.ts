import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../../common/errors/app-error.js';

export const InvitationErrors = defineErrors({
  // Also for invitations addressed to someone else: ids do not reveal other people's invitations.
  notFound: {
    code: 'invitation.not_found',
    status: HttpStatus.NOT_FOUND,
    message: 'Invitation not found',
  },
  alreadyMember: {
    code: 'invitation.already_member',
    status: HttpStatus.CONFLICT,
    message: 'This person is already a member of the team',
  },
  alreadyInvited: {
    code: 'invitation.already_invited',
    status: HttpStatus.CONFLICT,
    message: 'This address already has a pending invitation to the team',
  },
  alreadyAccepted: {
    code: 'invitation.already_accepted',
    status: HttpStatus.CONFLICT,
    message: 'The invitation has already been accepted',
  },
  declined: {
    code: 'invitation.declined',
    status: HttpStatus.CONFLICT,
    message: 'The invitation has been declined',
  },
  revoked: {
    code: 'invitation.revoked',
    status: HttpStatus.GONE,
    message: 'The invitation has been revoked',
  },
  expired: {
    code: 'invitation.expired',
    status: HttpStatus.GONE,
    message: 'The invitation has expired',
  },
  invalidToken: {
    code: 'invitation.invalid_token',
    status: HttpStatus.BAD_REQUEST,
    message: 'The invitation token is invalid',
  },
  emailMismatch: {
    code: 'invitation.email_mismatch',
    status: HttpStatus.BAD_REQUEST,
    message: 'The invitation was sent to a different email address',
  },
  // POST /invitations/accept {token}: a signed-in user holding someone else's link.
  notForMe: {
    code: 'invitation.email_mismatch',
    status: HttpStatus.FORBIDDEN,
    message: 'The invitation was sent to a different email address than yours',
  },
});
