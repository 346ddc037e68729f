/** The OpenAPI security scheme of team API keys (`Authorization: Bearer nsk_…`). */
export const API_KEY_SECURITY = 'apiKey';

/** Operation extension naming the scope a team API key needs on that route. */
export const API_KEY_SCOPE_EXTENSION = 'x-api-key-scope';
