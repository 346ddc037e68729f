import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../../common/errors/app-error.js';

export const ApiKeyErrors = defineErrors({
  // Also for another team's key: ids never reveal other teams' keys.
  notFound: {
    code: 'api_key.not_found',
    status: HttpStatus.NOT_FOUND,
    message: 'API key not found',
  },
});
