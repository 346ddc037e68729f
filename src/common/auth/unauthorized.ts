import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../errors/app-error.js';

/**
 * The one 401 of a caller without a live session or key. It sits on the ground floor because
 * every layer that authenticates throws it: the route decorators here, the access gate, the
 * users service and auth (whose AuthErrors re-exports it).
 */
export const UnauthorizedErrors = defineErrors({
  unauthorized: {
    code: 'auth.unauthorized',
    status: HttpStatus.UNAUTHORIZED,
    message: 'Missing, invalid, expired or revoked access token',
  },
});
