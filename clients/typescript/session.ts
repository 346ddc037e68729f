import createFetchClient, { type Middleware, type MiddlewareCallbackParams } from 'openapi-fetch';
import type { components, paths } from './schema.js';

type ApiError = components['schemas']['ErrorResponseDto'];

/** The two tokens of a session, as sign-up, sign-in, sign-in/mfa and refresh return them. */
export interface TokenPair {
  readonly accessToken: string;
  readonly refreshToken: string;
}

/**
 * Where the client keeps the session's tokens. `get` is read before every request; `set` is
 * called with the new pair after a refresh (the old refresh token is spent: rotation) and with
 * `null` when the session ended. Either may return a promise (an async storage).
 */
export interface TokenStore {
  get(): TokenPair | null | Promise<TokenPair | null>;
  set(tokens: TokenPair | null): void | Promise<void>;
}

/** Only the two tokens, never the rest of a sign-in answer (the user, expiresIn, ...). */
function pairOf(tokens: TokenPair | null): TokenPair | null {
  return tokens && { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken };
}

/** Tokens in memory: gone on reload. The default for `createClient`. */
export function memoryTokenStore(initial: TokenPair | null = null): TokenStore {
  let current = pairOf(initial);
  return {
    get: () => current,
    set: (tokens) => {
      current = pairOf(tokens);
    },
  };
}

/** What webStorageTokenStore needs: `localStorage` and `sessionStorage` fit. */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * Tokens in a Web Storage (`localStorage`: kept across reloads and shared by the tabs of the
 * origin; `sessionStorage`: one tab). Anything unreadable under `key` counts as no session.
 */
export function webStorageTokenStore(
  storage: KeyValueStorage,
  key = 'nest-saas.tokens',
): TokenStore {
  return {
    get() {
      const raw = storage.getItem(key);
      if (raw === null) return null;
      try {
        const value = JSON.parse(raw) as Partial<Record<keyof TokenPair, unknown>> | null;
        return typeof value?.accessToken === 'string' && typeof value.refreshToken === 'string'
          ? { accessToken: value.accessToken, refreshToken: value.refreshToken }
          : null;
      } catch {
        return null;
      }
    },
    set(tokens) {
      if (tokens === null) storage.removeItem(key);
      else storage.setItem(key, JSON.stringify(pairOf(tokens)));
    },
  };
}

export interface SessionOptions {
  /** Where the tokens live (default: memoryTokenStore()). */
  tokens?: TokenStore;
  /**
   * The API refused the refresh (the session was signed out, revoked, expired, or its refresh
   * token was replayed): the tokens are already cleared; send the user to sign in. Called once
   * per refused refresh, with the refresh's error (`auth.invalid_refresh_token`).
   */
  onSessionEnded?: (error: ApiError) => void;
}

/** What onRequest keeps for onResponse: the token sent, and the body to send again. */
interface Sent {
  accessToken: string;
  body: ArrayBuffer | null;
}

/** The 401 of the API's auth guard: the access token is missing, invalid, expired or revoked. */
async function isAccessTokenRefused(response: Response): Promise<boolean> {
  if (response.status !== 401) return false;
  try {
    const body = (await response.clone().json()) as { code?: unknown } | null;
    return body?.code === 'auth.unauthorized';
  } catch {
    return false;
  }
}

/**
 * The openapi-fetch middleware behind `createClient({ tokens })`, kept last in the client's
 * chain (so it sees each request as sent and each response first):
 * - adds `Authorization: Bearer <access token>` from the store to every request that has no
 *   Authorization header of its own (an explicit header, e.g. a team API key, is left alone);
 * - when such a request answers 401 `auth.unauthorized`, exchanges the refresh token once
 *   (concurrent 401s share one POST /auth/refresh), stores the new pair and sends the request
 *   once more with it. A request whose token was replaced meanwhile is resent without a
 *   refresh. The retry is not retried again, and no other 401 is touched (a wrong password at
 *   sign-in stays a 401);
 * - when the API refuses the refresh (401 `auth.invalid_refresh_token`, or any 4xx but 429),
 *   clears the store, calls `onSessionEnded` and returns the original 401. On 429/5xx the
 *   pair is kept and the 401 returned; a network error rejects the call.
 * Requests are resent with the client's `fetch`, with their body buffered before the first
 * send: a Request body can be read only once.
 */
export function sessionMiddleware(
  tokens: TokenStore,
  onSessionEnded?: (error: ApiError) => void,
): Middleware {
  // Keyed by the Request itself: nothing after this middleware replaces it, and an entry goes
  // with its request when a response never comes.
  const sent = new WeakMap<Request, Sent>();
  let refreshing: Promise<TokenPair | null> | undefined;

  async function refresh(
    stale: TokenPair,
    options: MiddlewareCallbackParams['options'],
  ): Promise<TokenPair | null> {
    // A client of its own, without this middleware: the refresh is never refreshed.
    const api = createFetchClient<paths>({ baseUrl: options.baseUrl, fetch: options.fetch });
    const { data, error, response } = await api.POST('/api/v1/auth/refresh', {
      body: { refreshToken: stale.refreshToken },
    });
    const current = await tokens.get();
    // Signed in again (or out) while the refresh was under way: that session wins.
    if (current?.refreshToken !== stale.refreshToken) return current;
    if (data) {
      const pair = pairOf(data);
      await tokens.set(pair);
      return pair;
    }
    if (response.status >= 400 && response.status < 500 && response.status !== 429) {
      await tokens.set(null);
      onSessionEnded?.(error);
    }
    return null;
  }

  /** The pair to retry with, after at most one refresh shared by every caller; or null. */
  async function freshTokens(
    sentWith: string,
    options: MiddlewareCallbackParams['options'],
  ): Promise<TokenPair | null> {
    const current = await tokens.get();
    if (current === null) return null;
    if (current.accessToken !== sentWith) return current;
    refreshing ??= refresh(current, options).finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  }

  return {
    async onRequest({ request }) {
      if (request.headers.has('Authorization')) return undefined;
      const pair = await tokens.get();
      if (pair === null) return undefined;
      request.headers.set('Authorization', `Bearer ${pair.accessToken}`);
      const body = request.body === null ? null : await request.clone().arrayBuffer();
      sent.set(request, { accessToken: pair.accessToken, body });
      return undefined;
    },

    async onResponse({ request, response, options }) {
      const entry = sent.get(request);
      sent.delete(request);
      if (entry === undefined || !(await isAccessTokenRefused(response))) return undefined;
      const pair = await freshTokens(entry.accessToken, options);
      if (pair === null) return undefined;
      await response.body?.cancel();
      const headers = new Headers(request.headers);
      headers.set('Authorization', `Bearer ${pair.accessToken}`);
      // Called as a plain function: a browser's fetch refuses any other `this`.
      const send = options.fetch;
      return send(new Request(request, { headers, body: entry.body }));
    },
  };
}
