import { REDACTED } from './redact-error.js';

/** Query parameters that carry a secret: an OAuth/OIDC code or state, a token, a key. */
const SECRET_PARAMS = new Set([
  'code',
  'state',
  'session_state',
  'key',
  'api_key',
  'apikey',
  'signature',
  'sig',
  'ticket',
  'otp',
  'samlrequest',
  'samlresponse',
  'relaystate',
]);

/** Any parameter whose name says token, secret or password (`token`, `id_token`, `client_secret`). */
const SECRET_NAME = /token|secret|passw/;

function isSecret(rawName: string): boolean {
  let name: string;
  try {
    name = decodeURIComponent(rawName.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    name = rawName.toLowerCase();
  }
  return SECRET_PARAMS.has(name) || SECRET_NAME.test(name);
}

/**
 * A request URL as it may be logged: the value of every query parameter that can carry a
 * secret (an OpenID Connect callback's `code` and `state`, any `…token…`) replaced with
 * `[redacted]`; the path, the other parameters and their order are left exactly as they came.
 */
export function redactUrl(url: string): string {
  const query = url.indexOf('?');
  if (query === -1) return url;
  const params = url
    .slice(query + 1)
    .split('&')
    .map((param) => {
      const equals = param.indexOf('=');
      const name = equals === -1 ? param : param.slice(0, equals);
      return equals !== -1 && isSecret(name) ? `${name}=${REDACTED}` : param;
    });
  return `${url.slice(0, query)}?${params.join('&')}`;
}
