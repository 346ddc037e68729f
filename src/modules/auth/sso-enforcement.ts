import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { AccessService } from '../access/access.service.js';
import { AuthErrors } from './auth.errors.js';

/** GET /auth/sso for this email: where a browser starts the team's SAML sign-in. */
export function ssoStartUrl(apiUrl: string, email: string): string {
  return `${apiUrl}/api/v1/auth/sso?${new URLSearchParams({ email }).toString()}`;
}

/**
 * API.md v1.2 "SSO enforcement": while a team's enabled connection is enforced, addresses in
 * that team's verified domains may not sign in with a password nor reset one (403
 * `auth.sso_required` with `details: [{ssoUrl}]`). Decided per request from the verified
 * domains (the access layer's read), so removing the last domain or disabling the connection
 * ends it at once. The back-office login does not ask: staff keep their password.
 */
@Injectable()
export class SsoEnforcement {
  constructor(
    private readonly access: AccessService,
    private readonly config: AppConfig,
  ) {}

  async assertPasswordAllowed(email: string): Promise<void> {
    if (!(await this.access.ssoEnforcedFor(email))) return;
    throw AuthErrors.ssoRequired(undefined, [
      {
        message: 'Sign in through your organization at ssoUrl',
        ssoUrl: ssoStartUrl(this.config.apiUrl, email),
      },
    ]);
  }
}
