/**
 * One counter a request was counted against, as the RateLimit header fields show it
 * (draft-ietf-httpapi-ratelimit-headers-09): `name` is the policy (`sign-up.ip`), `quota`
 * requests per `windowSeconds`, `remaining` of them left, the window resetting in
 * `resetSeconds`.
 */
export interface RateLimitState {
  name: string;
  /** Whose counter: the client's own (its IP, the signed-in user) or an address's. */
  by: 'ip' | 'email' | 'user';
  quota: number;
  windowSeconds: number;
  remaining: number;
  resetSeconds: number;
}

/**
 * `RateLimit-Policy` and `RateLimit` (Structured Field lists) for the counters of a request.
 * The policy lists every counter (quotas are configuration, not secrets). `RateLimit` lists
 * the client's own counters, and an address's counter only once it is used up: anyone may
 * name an address, so its remaining count would tell a stranger how often someone else tried
 * it; that it is used up is what the 429 says anyway.
 */
export function rateLimitHeaders(states: readonly RateLimitState[]): Record<string, string> {
  if (states.length === 0) return {};
  const shown = states.filter((state) => state.by !== 'email' || state.remaining === 0);
  const headers: Record<string, string> = {
    'RateLimit-Policy': states
      .map((state) => `"${state.name}";q=${state.quota};w=${state.windowSeconds}`)
      .join(', '),
  };
  if (shown.length > 0) {
    headers.RateLimit = shown
      .map((state) => `"${state.name}";r=${state.remaining};t=${state.resetSeconds}`)
      .join(', ');
  }
  return headers;
}
