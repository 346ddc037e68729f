import createFetchClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, paths } from './schema.js';

export type { components, operations, paths } from './schema.js';

/** The API's DTOs by name, e.g. `Schemas['TeamDetailDto']`. */
export type Schemas = components['schemas'];

/** The one error shape of the API (`{ statusCode, error, code, message, details? }`). */
export type ApiError = Schemas['ErrorResponseDto'];

export type NestSaasClient = Client<paths>;

/**
 * A fetch client typed with every path, parameter, body and response of the API:
 * `createClient({ baseUrl: 'https://api.example.com' }).GET('/api/v1/teams/{teamId}', ...)`.
 * Options are openapi-fetch's (`baseUrl`, `headers`, `fetch`, ...); add the access token with
 * `headers: { Authorization: \`Bearer ${token}\` }` or a middleware (`client.use(...)`).
 */
export function createClient(options: ClientOptions = {}): NestSaasClient {
  return createFetchClient<paths>(options);
}
