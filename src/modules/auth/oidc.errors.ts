import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../../common/errors/app-error.js';

export const OidcErrors = defineErrors({
  unknownProvider: {
    code: 'oidc.unknown_provider',
    status: HttpStatus.NOT_FOUND,
    message: 'No OpenID Connect provider is configured under this id',
  },
  invalidCode: {
    code: 'oidc.invalid_code',
    status: HttpStatus.BAD_REQUEST,
    message: 'The sign-in code is invalid, used or expired',
  },
});

/**
 * The `error` of the callback's redirect to APP_URL/auth/callback?error=<code>: the browser
 * arrives there, so these travel in the URL instead of as an HTTP error body.
 */
export const OIDC_CALLBACK_ERRORS = {
  invalidState: 'oidc.invalid_state',
  accessDenied: 'oidc.access_denied',
  providerError: 'oidc.provider_error',
  providerUnavailable: 'oidc.provider_unavailable',
  invalidResponse: 'oidc.invalid_response',
  emailMissing: 'oidc.email_missing',
  accountExists: 'oidc.account_exists',
} as const;

export type OidcCallbackError = (typeof OIDC_CALLBACK_ERRORS)[keyof typeof OIDC_CALLBACK_ERRORS];

/** What each callback error means, for the Swagger description and the README. */
export const OIDC_CALLBACK_ERROR_DOCS: Readonly<Record<OidcCallbackError, string>> = {
  'oidc.invalid_state':
    'no sign-in was started in this browser for this provider, it expired (10 minutes) or was used, or `state` does not match',
  'oidc.access_denied': 'the user cancelled or was refused at the provider',
  'oidc.provider_error': 'the provider answered an error or could not be reached',
  'oidc.provider_unavailable':
    "the provider's discovery document could not be loaded (from authorize)",
  'oidc.invalid_response':
    "the provider's answer failed validation (ID token signature, issuer, audience, expiry or nonce)",
  'oidc.email_missing': 'the provider gave no usable email address (scope `email`)',
  'oidc.account_exists':
    'an account with this email exists but cannot be linked: its email is not verified here, or the provider does not vouch for the address (`email_verified`)',
};
