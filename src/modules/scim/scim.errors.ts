import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../../common/errors/app-error.js';

/**
 * The SCIM service's errors. Under /scim/v2 the exception filter renders every error as a
 * SCIM error body (common/http/scim-path.ts); a `scim.<type>` code becomes its `scimType`
 * (RFC 7644 §3.12), so `scim.invalid_filter` is `scimType: "invalidFilter"`.
 */
export const ScimErrors = defineErrors({
  unauthorized: {
    code: 'scim.unauthorized',
    status: HttpStatus.UNAUTHORIZED,
    message: 'A valid SCIM bearer token is required',
  },
  notFound: {
    code: 'scim.not_found',
    status: HttpStatus.NOT_FOUND,
    message: 'Resource not found',
  },
  uniqueness: {
    code: 'scim.uniqueness',
    status: HttpStatus.CONFLICT,
    message: 'A resource with this value already exists in the directory',
  },
  invalidFilter: {
    code: 'scim.invalid_filter',
    status: HttpStatus.BAD_REQUEST,
    message: 'The filter is not valid or not supported',
  },
  invalidValue: {
    code: 'scim.invalid_value',
    status: HttpStatus.BAD_REQUEST,
    message: 'A required value is missing or a value is not valid',
  },
  invalidSyntax: {
    code: 'scim.invalid_syntax',
    status: HttpStatus.BAD_REQUEST,
    message: 'The request is not a valid SCIM request',
  },
  invalidPath: {
    code: 'scim.invalid_path',
    status: HttpStatus.BAD_REQUEST,
    message: 'The path attribute is not valid',
  },
  noTarget: {
    code: 'scim.no_target',
    status: HttpStatus.BAD_REQUEST,
    message: 'The path did not match any value',
  },
  mutability: {
    code: 'scim.mutability',
    status: HttpStatus.BAD_REQUEST,
    message: 'The attribute cannot be changed this way',
  },
  // Plan limits (plan.limit_reached, 402 in the API) seen by a SCIM client: RFC 7644 has no
  // 402 and no scimType for quotas; 403 "operation not permitted" with a clear detail is what
  // Okta's and Entra ID's provisioning logs show to the admin.
  planLimit: {
    code: 'scim.plan_limit_reached',
    status: HttpStatus.FORBIDDEN,
    message: "The team's plan allows no more members",
  },
});

/** Errors of the owner routes under /api/v1/teams/:teamId/scim. */
export const ScimTokenErrors = defineErrors({
  notFound: {
    code: 'scim_token.not_found',
    status: HttpStatus.NOT_FOUND,
    message: 'SCIM token not found',
  },
});
