import type { IncomingMessage } from 'node:http';

/** Where AdminJS is mounted (outside the API's /api/v1 prefix). */
export const ADMIN_ROOT_PATH = '/admin';

/**
 * True for /admin and anything under it, e.g. to keep the API's body parsers off its forms.
 * Case-insensitive like the app's routing: /ADMIN/login is the panel's to answer too (a 404:
 * it lives at /admin only, its cookie's Path).
 */
export function isAdminRequest(req: IncomingMessage & { originalUrl?: string }): boolean {
  const url = (req.originalUrl ?? req.url ?? '').toLowerCase();
  return (
    url === ADMIN_ROOT_PATH ||
    url.startsWith(`${ADMIN_ROOT_PATH}/`) ||
    url.startsWith(`${ADMIN_ROOT_PATH}?`)
  );
}
