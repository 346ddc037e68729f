import createFetchClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, paths } from './schema.js';
import {
  memoryTokenStore,
  sessionMiddleware,
  type SessionOptions,
  type TokenStore,
} from './session.js';

export type { components, operations, paths } from './schema.js';
export {
  memoryTokenStore,
  webStorageTokenStore,
  type KeyValueStorage,
  type SessionOptions,
  type TokenPair,
  type TokenStore,
} from './session.js';

/** The API's DTOs by name, e.g. `Schemas['TeamDetailDto']`. */
export type Schemas = components['schemas'];

/** The one error shape of the API (`{ statusCode, error, code, message, details? }`). */
export type ApiError = Schemas['ErrorResponseDto'];

/** The sign-in answer when the account has two-factor sign-in on (no tokens yet). */
export type MfaRequired = Schemas['MfaRequiredDto'];

/** openapi-fetch's client for every path of the API, with the session's token store. */
export interface NestSaasClient extends Client<paths> {
  /** Store the pair after sign-up, sign-in or sign-in/mfa: `await api.tokens.set(data)`. */
  readonly tokens: TokenStore;
}

/**
 * A fetch client typed with every path, parameter, body and response of the API:
 * `createClient({ baseUrl: 'https://api.example.com' }).GET('/api/v1/teams/{teamId}', ...)`.
 * Options are openapi-fetch's (`baseUrl`, `headers`, `fetch`, ...) plus the session's: the
 * client sends the stored access token, refreshes it once on a 401 and retries (see
 * session.ts); `tokens` picks the store (default in memory), `onSessionEnded` hears when the
 * API refused the refresh.
 */
export function createClient(options: ClientOptions & SessionOptions = {}): NestSaasClient {
  const { tokens = memoryTokenStore(), onSessionEnded, ...clientOptions } = options;
  const client = createFetchClient<paths>(clientOptions);
  const session = sessionMiddleware(tokens, onSessionEnded);
  const use = client.use.bind(client);
  const eject = client.eject.bind(client);
  use(session);
  // The session's middleware stays last: it adds the token to the request as the others left
  // it, and retries a 401 before their onResponse sees it (openapi-fetch runs onResponse in
  // reverse order).
  const useBeforeSession: NestSaasClient['use'] = (...middleware) => {
    eject(session);
    use(...middleware, session);
  };
  return Object.assign(client, { tokens, use: useBeforeSession });
}

/**
 * Whether a sign-in answer is the MFA challenge (`{ mfaRequired: true, mfaToken }`) rather
 * than a session: then send `mfaToken` with a code to POST /api/v1/auth/sign-in/mfa.
 */
export function isMfaRequired<T extends object>(data: T): data is Extract<T, MfaRequired> {
  return 'mfaRequired' in data && data.mfaRequired === true;
}

/**
 * Ends the session: POST /api/v1/auth/sign-out with the stored token (refreshed first if it
 * has expired), then clears the store, whatever the answer. True when the API ended the
 * session or it had already ended; false when it could not say (e.g. 503: the refresh token
 * may still work until it expires). Rejects only when the API cannot be reached, after
 * clearing the store.
 */
export async function signOut(client: NestSaasClient): Promise<boolean> {
  try {
    if ((await client.tokens.get()) === null) return true;
    const { response } = await client.POST('/api/v1/auth/sign-out');
    return response.status === 204 || response.status === 401;
  } finally {
    await client.tokens.set(null);
  }
}
