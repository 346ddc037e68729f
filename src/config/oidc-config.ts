import { ConfigValidationError } from './config-error.js';

/** One OpenID Connect provider from OIDC_PROVIDERS and its OIDC_<ID>_* variables. */
export interface OidcProviderConfig {
  /** Lower-case id as listed in OIDC_PROVIDERS; the `:provider` of the routes. */
  readonly id: string;
  /** Button label (OIDC_<ID>_NAME); the id when unset. */
  readonly name: string;
  /** Discovery is read from `<issuer>/.well-known/openid-configuration`. */
  readonly issuer: URL;
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface OidcConfig {
  readonly providers: readonly OidcProviderConfig[];
  /**
   * OIDC_ALLOW_INSECURE=true lets issuers use plain `http://` (a provider on the developer's
   * machine, the tests' in-process provider). Refused in production: there every request to
   * a provider goes over TLS.
   */
  readonly allowInsecure: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

// Ids become path segments and parts of variable names (OIDC_<ID>_ISSUER).
const PROVIDER_ID = /^[a-z][a-z0-9_]{0,31}$/;

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function required(env: Env, name: string): string {
  const value = read(env, name);
  if (value === undefined) throw new ConfigValidationError(name, 'is required');
  return value;
}

/** Parses OIDC_PROVIDERS, OIDC_<ID>_{ISSUER,CLIENT_ID,CLIENT_SECRET,NAME} and OIDC_ALLOW_INSECURE. */
export function loadOidcConfig(env: Env, production: boolean): OidcConfig {
  const insecure = read(env, 'OIDC_ALLOW_INSECURE');
  if (insecure !== undefined && insecure !== 'true' && insecure !== 'false') {
    throw new ConfigValidationError(
      'OIDC_ALLOW_INSECURE',
      `must be true or false (got "${insecure}")`,
    );
  }
  const allowInsecure = insecure === 'true';
  if (allowInsecure && production) {
    throw new ConfigValidationError('OIDC_ALLOW_INSECURE', 'must not be true in production');
  }

  const list = read(env, 'OIDC_PROVIDERS');
  if (list === undefined) return Object.freeze({ providers: Object.freeze([]), allowInsecure });
  const ids = list
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry !== '');
  // The list first, so a bad id is reported as such, not as a missing OIDC_<ID>_ISSUER.
  for (const [index, id] of ids.entries()) {
    if (!PROVIDER_ID.test(id)) {
      throw new ConfigValidationError(
        'OIDC_PROVIDERS',
        `must be comma-separated ids of letters, digits and _ starting with a letter (got "${id}")`,
      );
    }
    if (ids.indexOf(id) !== index) {
      throw new ConfigValidationError('OIDC_PROVIDERS', `lists "${id}" twice`);
    }
  }
  const providers: OidcProviderConfig[] = [];
  for (const id of ids) {
    const prefix = `OIDC_${id.toUpperCase()}_`;
    const issuerName = `${prefix}ISSUER`;
    let issuer: URL;
    try {
      issuer = new URL(required(env, issuerName));
    } catch (error) {
      if (error instanceof ConfigValidationError) throw error;
      throw new ConfigValidationError(issuerName, 'must be an absolute URL');
    }
    if (issuer.protocol !== 'https:' && !(allowInsecure && issuer.protocol === 'http:')) {
      throw new ConfigValidationError(
        issuerName,
        allowInsecure
          ? 'must use https:// or http://'
          : 'must use https:// (http:// only with OIDC_ALLOW_INSECURE=true outside production)',
      );
    }
    if (issuer.search !== '' || issuer.hash !== '') {
      throw new ConfigValidationError(issuerName, 'must not have a query or fragment');
    }
    providers.push(
      Object.freeze({
        id,
        name: read(env, `${prefix}NAME`) ?? id,
        issuer,
        clientId: required(env, `${prefix}CLIENT_ID`),
        clientSecret: required(env, `${prefix}CLIENT_SECRET`),
      }),
    );
  }
  return Object.freeze({ providers: Object.freeze(providers), allowInsecure });
}
