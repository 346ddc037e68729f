import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../../common/errors/app-error.js';

/** Errors of admin-panel actions; shown to the admin as the action's error notice. */
export const AdminErrors = defineErrors({
  userDeleted: {
    code: 'admin.user_deleted',
    status: HttpStatus.CONFLICT,
    message: 'This user account is deleted',
  },
  alreadyMember: {
    code: 'admin.already_member',
    status: HttpStatus.CONFLICT,
    message: 'This user already belongs to the team',
  },
  selfDemotion: {
    code: 'admin.self_demotion',
    status: HttpStatus.CONFLICT,
    message: 'You cannot remove your own admin role or delete your own account here',
  },
  invalidInput: {
    code: 'admin.invalid_input',
    status: HttpStatus.BAD_REQUEST,
    message: 'Invalid input',
  },
  crossSiteRequest: {
    code: 'admin.cross_site_request',
    status: HttpStatus.FORBIDDEN,
    message: 'The admin panel only accepts changes from its own pages (same origin)',
  },
  unknownResource: {
    code: 'admin.unknown_resource',
    status: HttpStatus.NOT_FOUND,
    message: 'No such admin resource or action',
  },
  unavailable: {
    code: 'admin.unavailable',
    status: HttpStatus.SERVICE_UNAVAILABLE,
    message: 'The admin panel could not be loaded; try again in a moment',
  },
  malformedBody: {
    code: 'admin.malformed_body',
    status: HttpStatus.BAD_REQUEST,
    message: 'The request body could not be parsed',
  },
});
