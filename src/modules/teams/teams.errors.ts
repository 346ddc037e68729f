import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../../common/errors/app-error.js';
import { ACCESS_ERRORS } from '../access/access.errors.js';

export const TeamErrors = defineErrors({
  ...ACCESS_ERRORS,
  memberNotFound: {
    code: 'team.member_not_found',
    status: HttpStatus.NOT_FOUND,
    message: 'Team member not found',
  },
  lastOwner: {
    code: 'team.last_owner',
    status: HttpStatus.CONFLICT,
    message: 'A team must keep at least one owner',
  },
});
