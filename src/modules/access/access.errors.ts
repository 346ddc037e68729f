import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../../common/errors/app-error.js';

/**
 * The access layer's answers, the one definition: the teams catalogue (TeamErrors) lists them
 * too, for the routes and services above this module.
 */
export const ACCESS_ERRORS = {
  // Also the answer for teams the caller does not belong to: a team's existence is not revealed.
  notFound: { code: 'team.not_found', status: HttpStatus.NOT_FOUND, message: 'Team not found' },
  forbidden: {
    code: 'team.forbidden',
    status: HttpStatus.FORBIDDEN,
    message: 'This action requires a different team role',
  },
  // A team API key on its own team's route without the route's scope (API.md v1.1).
  apiKeyScopeMissing: {
    code: 'api_key.scope_missing',
    status: HttpStatus.FORBIDDEN,
    message: 'This API key lacks the scope this route requires',
  },
  // API.md v1.2: an invitation or a role change to `owner` made with a team API key.
  apiKeyRoleForbidden: {
    code: 'api_key.role_forbidden',
    status: HttpStatus.FORBIDDEN,
    message: 'An API key cannot create or grant the owner role',
  },
} as const;

export const AccessErrors = defineErrors(ACCESS_ERRORS);
