import type { IncomingMessage } from 'node:http';

/** Where AdminJS is mounted (outside the API's /api/v1 prefix). */
export const ADMIN_ROOT_PATH = '/admin';

/**
 * True for /admin and anything under it, e.g. to keep the API's body parsers off its forms.
 * Case-insensitive like Express's routing, which also hands /ADMIN/login to the panel.
 */
export function isAdminRequest(req: IncomingMessage & { originalUrl?: string }): boolean {
  const url = (req.originalUrl ?? req.url ?? '').toLowerCase();
  return (
    url === ADMIN_ROOT_PATH ||
    url.startsWith(`${ADMIN_ROOT_PATH}/`) ||
    url.startsWith(`${ADMIN_ROOT_PATH}?`)
  );
}
