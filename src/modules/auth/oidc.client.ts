import { Injectable } from '@nestjs/common';
import type * as openid from 'openid-client';
import { AppConfig } from '../../config/app-config.js';
import type { OidcProviderConfig } from '../../config/oidc-config.js';

/** Where the callback route is served (the app's global prefix, as billing's success URL spells it). */
export const OIDC_ROUTES_PATH = '/api/v1/auth/oidc';

/** Seconds a request to a provider (discovery, token, JWKS, userinfo) may take. */
const PROVIDER_TIMEOUT_SECONDS = 10;

/**
 * The relying-party side of each configured provider, through openid-client (a certified
 * OpenID Connect RP library): discovery, authorization URLs, the code grant with its ID token
 * checks (JWKS signature, iss, aud, exp, nonce) and userinfo. The library is imported on
 * first use (`library`): an instance without providers, or before the first OIDC sign-in,
 * does not load it.
 */
@Injectable()
export class OidcClients {
  // One discovery per provider and process; a failed one is forgotten so the next try repeats it.
  private readonly configurations = new Map<string, Promise<openid.Configuration>>();
  private openidClient: Promise<typeof openid> | undefined;

  constructor(private readonly config: AppConfig) {}

  get providers(): readonly OidcProviderConfig[] {
    return this.config.oidc.providers;
  }

  find(id: string): OidcProviderConfig | undefined {
    return this.config.oidc.providers.find((p) => p.id === id);
  }

  /** The redirect URI registered at the provider: `<API_URL>/api/v1/auth/oidc/<id>/callback`. */
  redirectUri(provider: OidcProviderConfig): string {
    return `${this.config.apiUrl}${OIDC_ROUTES_PATH}/${provider.id}/callback`;
  }

  /** openid-client, imported once on first use. */
  library(): Promise<typeof openid> {
    return (this.openidClient ??= import('openid-client'));
  }

  configuration(provider: OidcProviderConfig): Promise<openid.Configuration> {
    let pending = this.configurations.get(provider.id);
    if (pending === undefined) {
      pending = this.discover(provider);
      this.configurations.set(provider.id, pending);
      pending.catch(() => this.configurations.delete(provider.id));
    }
    return pending;
  }

  private async discover(provider: OidcProviderConfig): Promise<openid.Configuration> {
    const client = await this.library();
    const configuration = await client.discovery(
      provider.issuer,
      provider.clientId,
      provider.clientSecret,
      undefined,
      {
        timeout: PROVIDER_TIMEOUT_SECONDS,
        execute: [
          // The ID token's signature is checked against the provider's JWKS: openid-client
          // skips it for a token-endpoint answer (OIDC Core 3.1.3.7 lets TLS stand in), but
          // API.md promises it, and it keeps a tampered or forged token out whatever the path.
          client.enableNonRepudiationChecks,
          // Only with OIDC_ALLOW_INSECURE=true, which the config refuses in production.
          ...(this.config.oidc.allowInsecure ? [client.allowInsecureRequests] : []),
        ],
      },
    );
    configuration.timeout = PROVIDER_TIMEOUT_SECONDS;
    return configuration;
  }
}
