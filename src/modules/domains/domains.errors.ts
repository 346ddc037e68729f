import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../../common/errors/app-error.js';

export const DomainErrors = defineErrors({
  // Also for another team's domain: ids never reveal other teams' domains.
  notFound: {
    code: 'domain.not_found',
    status: HttpStatus.NOT_FOUND,
    message: 'Domain not found',
  },
  invalid: {
    code: 'domain.invalid',
    status: HttpStatus.BAD_REQUEST,
    message: 'The domain is not a valid host name like example.com',
  },
  taken: {
    code: 'domain.taken',
    status: HttpStatus.CONFLICT,
    message: 'The domain is verified by another team',
  },
  alreadyAdded: {
    code: 'domain.already_added',
    status: HttpStatus.CONFLICT,
    message: 'The team has already added this domain; see GET /teams/{teamId}/domains',
  },
  limitReached: {
    code: 'domain.limit_reached',
    status: HttpStatus.CONFLICT,
    message: 'The team has as many domains as it may have; remove one first',
  },
  notVerified: {
    code: 'domain.not_verified',
    status: HttpStatus.CONFLICT,
    message: 'The TXT record proving the domain was not found; see details',
  },
});
