import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../../common/errors/app-error.js';

export const SsoErrors = defineErrors({
  invalidMetadata: {
    code: 'sso.invalid_metadata',
    status: HttpStatus.BAD_REQUEST,
    message:
      "The identity provider's metadata is unusable: it needs an entity id, an SSO URL with the HTTP-Redirect binding and a signing certificate",
  },
  notFound: {
    code: 'sso.not_found',
    status: HttpStatus.NOT_FOUND,
    message: 'This team has no SSO connection',
  },
  exists: {
    code: 'sso.exists',
    status: HttpStatus.CONFLICT,
    message: 'This team already has an SSO connection (change it with PATCH)',
  },
  domainRequired: {
    code: 'sso.domain_required',
    status: HttpStatus.CONFLICT,
    message: 'Enforcing SSO needs a verified domain (POST /teams/{teamId}/domains)',
  },
  notConfigured: {
    code: 'sso.not_configured',
    status: HttpStatus.NOT_FOUND,
    message: "No SSO sign-in is configured for this email's domain",
  },
});

/**
 * The `error` of the ACS's redirect to APP_URL/auth/callback?error=<code>: the browser arrives
 * there, so these travel in the URL instead of as an HTTP error body.
 */
export const SAML_ACS_ERRORS = {
  notConfigured: 'sso.not_configured',
  invalidResponse: 'sso.invalid_response',
  replayed: 'sso.replayed',
  domainMismatch: 'sso.domain_mismatch',
  planLimit: 'plan.limit_reached',
} as const;

export type SamlAcsError = (typeof SAML_ACS_ERRORS)[keyof typeof SAML_ACS_ERRORS];

/** What each ACS error means, for the Swagger description. */
export const SAML_ACS_ERROR_DOCS: Readonly<Record<SamlAcsError, string>> = {
  'sso.not_configured':
    'the connection does not exist (any more) or a back-office admin disabled it',
  'sso.invalid_response':
    "the response failed validation: no valid signature by the connection's certificate (unsigned, another key, wrapping), Issuer, Audience, Recipient, Destination, time conditions, or InResponseTo not a request this app issued in the last 10 minutes (unsolicited, used, expired)",
  'sso.replayed': 'this assertion id was accepted before',
  'sso.domain_mismatch': "the NameID's email is not in one of the team's verified domains",
  'plan.limit_reached': "joining the team would pass its plan's member limit",
};
