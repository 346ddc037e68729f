import { EXPORT_ACTION } from './admin-export.js';

/**
 * The only actions `support` staff may run, on every resource: they read (the CSV export of a
 * filtered list is a read too). Every other action
 * (new, edit, delete, bulkDelete and each custom action, including ones added later) is for
 * the `admin` role only: `isAccessible` says so (admin.resources.ts) and the router's staff
 * gate refuses the rest before AdminJS sees it (admin-fastify.loader.ts).
 */
export const STAFF_READ_ACTIONS: ReadonlySet<string> = new Set([
  'list',
  'show',
  'search',
  EXPORT_ACTION,
]);

/** Of those, the ones that act on one record (the others act on a resource's list). */
const RECORD_READS = 'show';
const RESOURCE_READS = [...STAFF_READ_ACTIONS].filter((a) => a !== RECORD_READS).join('|');
const SEGMENT = '[^/]+';

/**
 * What a `support` session may request (GET/HEAD only), as paths under /admin: the panel's
 * pages (dashboard, a resource's list, a record's show page), the dashboard's data, and the
 * read actions of the API. Bundles and the login and logout routes are served before the
 * sign-in check and never reach the gate. Anything else is refused: deny by default.
 */
const SUPPORT_READ_PATHS: readonly RegExp[] = [
  /^\/?$/,
  /^\/api\/dashboard\/?$/,
  new RegExp(`^/resources/${SEGMENT}/?$`),
  new RegExp(`^/resources/${SEGMENT}/actions/(${RESOURCE_READS})/?$`),
  new RegExp(`^/resources/${SEGMENT}/records/${SEGMENT}/(${RECORD_READS})/?$`),
  new RegExp(`^/api/resources/${SEGMENT}/actions/(${RESOURCE_READS})(/[^/]*)?/?$`),
  new RegExp(`^/api/resources/${SEGMENT}/records/${SEGMENT}/(${RECORD_READS})/?$`),
  new RegExp(`^/api/resources/${SEGMENT}/search(/[^/]*)?/?$`),
];

/** Whether a request of a `support` session (path relative to /admin) is one of its reads. */
export function isSupportRead(method: string, path: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  return SUPPORT_READ_PATHS.some((pattern) => pattern.test(path));
}
