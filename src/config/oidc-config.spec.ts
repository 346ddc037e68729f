import { describe, expect, it } from '@jest/globals';
import { ConfigValidationError, loadConfig } from './app-config.js';
import { loadOidcConfig } from './oidc-config.js';

const SECRET = 'a'.repeat(32);

const GOOGLE = {
  OIDC_GOOGLE_ISSUER: 'https://accounts.google.com',
  OIDC_GOOGLE_CLIENT_ID: 'id-1.apps.googleusercontent.com',
  OIDC_GOOGLE_CLIENT_SECRET: 'secret-1',
};

function errorOf(env: Record<string, string>, production = false): string {
  try {
    loadOidcConfig(env, production);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return (error as Error).message;
  }
  throw new Error('expected loadOidcConfig to throw');
}

describe('loadOidcConfig (OIDC_PROVIDERS, OIDC_<ID>_*)', () => {
  it('has no providers when OIDC_PROVIDERS is unset or empty', () => {
    expect(loadOidcConfig({}, false)).toEqual({ providers: [], allowInsecure: false });
    expect(loadOidcConfig({ OIDC_PROVIDERS: ' ' }, true).providers).toEqual([]);
  });

  it('reads each listed provider from its upper-cased variables, in order', () => {
    const config = loadOidcConfig(
      {
        OIDC_PROVIDERS: ' Google , corp_sso',
        ...GOOGLE,
        OIDC_GOOGLE_NAME: 'Google',
        OIDC_CORP_SSO_ISSUER: 'https://login.example.com/realms/corp',
        OIDC_CORP_SSO_CLIENT_ID: 'nest-saas',
        OIDC_CORP_SSO_CLIENT_SECRET: 'secret-2',
      },
      true,
    );
    expect(config.providers.map((p) => ({ ...p, issuer: p.issuer.href }))).toEqual([
      {
        id: 'google',
        name: 'Google',
        issuer: 'https://accounts.google.com/',
        clientId: 'id-1.apps.googleusercontent.com',
        clientSecret: 'secret-1',
      },
      {
        id: 'corp_sso',
        // The id is the label when OIDC_<ID>_NAME is unset.
        name: 'corp_sso',
        issuer: 'https://login.example.com/realms/corp',
        clientId: 'nest-saas',
        clientSecret: 'secret-2',
      },
    ]);
  });

  it.each([
    [{ OIDC_PROVIDERS: 'google' }, 'OIDC_GOOGLE_ISSUER is required'],
    [
      { OIDC_PROVIDERS: 'google', ...GOOGLE, OIDC_GOOGLE_CLIENT_ID: '' },
      'OIDC_GOOGLE_CLIENT_ID is required',
    ],
    [
      { OIDC_PROVIDERS: 'google', ...GOOGLE, OIDC_GOOGLE_CLIENT_SECRET: ' ' },
      'OIDC_GOOGLE_CLIENT_SECRET is required',
    ],
    [
      { OIDC_PROVIDERS: 'google', ...GOOGLE, OIDC_GOOGLE_ISSUER: 'accounts.google.com' },
      'OIDC_GOOGLE_ISSUER must be an absolute URL',
    ],
    [
      { OIDC_PROVIDERS: 'google', ...GOOGLE, OIDC_GOOGLE_ISSUER: 'http://accounts.google.com' },
      'OIDC_GOOGLE_ISSUER must use https://',
    ],
    [
      { OIDC_PROVIDERS: 'google', ...GOOGLE, OIDC_GOOGLE_ISSUER: 'https://a.test/?x=1' },
      'OIDC_GOOGLE_ISSUER must not have a query or fragment',
    ],
    [{ OIDC_PROVIDERS: 'google,my-idp' }, 'OIDC_PROVIDERS must be comma-separated ids'],
    [{ OIDC_PROVIDERS: '1st' }, 'OIDC_PROVIDERS must be comma-separated ids'],
    [{ OIDC_PROVIDERS: 'google,GOOGLE', ...GOOGLE }, 'OIDC_PROVIDERS lists "google" twice'],
    [{ OIDC_ALLOW_INSECURE: 'yes' }, 'OIDC_ALLOW_INSECURE must be true or false'],
  ])('names the variable for %j', (env, message) => {
    const text = errorOf(env);
    expect(text).toContain(`Invalid configuration: ${message}`);
    expect(text).not.toContain('\n');
  });

  it('allows http:// issuers only with OIDC_ALLOW_INSECURE=true, never in production', () => {
    const env = {
      OIDC_PROVIDERS: 'dev',
      OIDC_DEV_ISSUER: 'http://127.0.0.1:8080',
      OIDC_DEV_CLIENT_ID: 'id',
      OIDC_DEV_CLIENT_SECRET: 'secret',
    };
    expect(errorOf(env)).toContain('OIDC_DEV_ISSUER must use https://');
    const dev = loadOidcConfig({ ...env, OIDC_ALLOW_INSECURE: 'true' }, false);
    expect(dev.allowInsecure).toBe(true);
    expect(dev.providers[0]?.issuer.href).toBe('http://127.0.0.1:8080/');
    expect(errorOf({ OIDC_ALLOW_INSECURE: 'true' }, true)).toBe(
      'Invalid configuration: OIDC_ALLOW_INSECURE must not be true in production',
    );
  });

  it('is part of the app config, with API_URL defaulting to APP_URL', () => {
    const config = loadConfig({
      JWT_SECRET: SECRET,
      APP_URL: 'https://app.example.com/',
      OIDC_PROVIDERS: 'google',
      ...GOOGLE,
    });
    expect(config.apiUrl).toBe('https://app.example.com');
    expect(config.oidc.providers.map((p) => p.id)).toEqual(['google']);
    expect(loadConfig({ JWT_SECRET: SECRET, API_URL: 'https://api.example.com/' }).apiUrl).toBe(
      'https://api.example.com',
    );
    expect(() => loadConfig({ API_URL: 'ftp://x' })).toThrow(
      'API_URL must use http:// or https://',
    );
  });
});
