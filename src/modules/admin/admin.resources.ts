import type { ActionContext, Before, ResourceOptions, ResourceWithOptions } from 'adminjs';
import type { AdminSessionUser } from './admin-auth.service.js';
import { STAFF_READ_ACTIONS } from './admin-staff-access.js';
import { activityLogsResource } from './resources/activity-logs.resource.js';
import { apiKeysResource } from './resources/api-keys.resource.js';
import { invitationsResource } from './resources/invitations.resource.js';
import type { AdminResourceDeps } from './resources/resource-actions.js';
import { scimTokensResource } from './resources/scim-tokens.resource.js';
import { sessionsResource } from './resources/sessions.resource.js';
import { stripeEventsResource } from './resources/stripe-events.resource.js';
import { teamDomainsResource } from './resources/team-domains.resource.js';
import { teamMembersResource } from './resources/team-members.resource.js';
import { teamsResource } from './resources/teams.resource.js';
import { usersResource } from './resources/users.resource.js';
import { webhookDeliveriesResource } from './resources/webhook-deliveries.resource.js';
import { ssoConnectionsResource } from './resources/sso-connections.resource.js';
import { webhookEndpointsResource } from './resources/webhook-endpoints.resource.js';
import { webhookEventsResource } from './resources/webhook-events.resource.js';

/** Whether the signed-in staff member has the full `admin` role (read from the session). */
function isFullAdmin(currentAdmin: unknown): boolean {
  return (currentAdmin as Partial<AdminSessionUser> | undefined)?.role === 'admin';
}

/**
 * Wraps `isAccessible` of every action but the read ones with a role check, so AdminJS itself
 * (its API controller checks `isAccessible` before any handler) refuses support staff.
 */
function adminOnlyWrites(options: ResourceOptions): ResourceOptions {
  type AnyAction = { isAccessible?: boolean | ((context: ActionContext) => boolean) };
  // AdminJS's built-in writes too, also where a resource does not mention them.
  const all = {
    new: {},
    edit: {},
    delete: {},
    bulkDelete: {},
    ...options.actions,
  } as Record<string, AnyAction | undefined>;
  const actions: Record<string, AnyAction> = {};
  for (const [name, action] of Object.entries(all)) {
    if (!action) continue;
    if (STAFF_READ_ACTIONS.has(name)) {
      actions[name] = action;
      continue;
    }
    const original = action.isAccessible ?? true;
    actions[name] = {
      ...action,
      isAccessible: (context: ActionContext) =>
        isFullAdmin(context.currentAdmin) &&
        (typeof original === 'function' ? original(context) : original),
    };
  }
  return { ...options, actions };
}

/** AdminJS's built-in actions: every resource has them, whether its options name them or not. */
const BUILT_IN_ACTIONS = ['list', 'search', 'show', 'new', 'edit', 'delete', 'bulkDelete'];

/**
 * Any request but a POST reaches an action as a GET. @adminjs/express routes HEAD to the GET
 * routes and passes the method on as it came (`head`), and AdminJS's handlers, the built-in
 * ones and ours, take any method but `get` for a write: a HEAD to …/records/:id/delete
 * deleted. Runs before every handler (and before `isAccessible`).
 */
const readUnlessPost: Before = (request) =>
  request.method === 'post' ? request : { ...request, method: 'get' };

/** The filter query parameters of a list: `filters.<property>` and `filters.<property>~~from`. */
const FILTER_PARAM = /^filters\.([^.~]+)/;

/**
 * List and search queries name only properties of the resource: a sort key, filter or search
 * property that is none (Object.prototype's `__proto__`, `constructor`, `toString` included,
 * which AdminJS's own lookups then found and failed on with a 500) is dropped, so the list
 * falls back to its default sort (`options.sort`, key and direction) and ignores the filter.
 * A direction other than asc/desc falls back to the default direction.
 */
const knownPropertiesOnly: Before = (request, context) => {
  const properties = context.resource.decorate().properties;
  const known = (name: unknown): boolean =>
    typeof name === 'string' && Object.hasOwn(properties, name);
  const query: Record<string, unknown> = { ...request.query };
  for (const key of Object.keys(query)) {
    const filter = FILTER_PARAM.exec(key);
    if (filter && !known(filter[1])) delete query[key];
  }
  const { sortBy, direction } = query;
  // The direction was asked for that key: the default sort is the default key's own.
  if (sortBy !== undefined && !(known(sortBy) && properties[sortBy as string]!.isSortable())) {
    delete query.sortBy;
    delete query.direction;
  }
  if (direction !== 'asc' && direction !== 'desc') delete query.direction;
  if (query.searchProperty !== undefined && !known(query.searchProperty)) {
    delete query.searchProperty;
  }
  return { ...request, query };
};

/** Actions whose query names properties (sort, filters, search property). */
const QUERYING_ACTIONS: ReadonlySet<string> = new Set(['list', 'search']);

/**
 * Puts the request hooks first in the `before` hooks of every action, built-in ones included:
 * `readUnlessPost` everywhere, `knownPropertiesOnly` on the lists and searches.
 */
function guardRequests(options: ResourceOptions): ResourceOptions {
  type Hooks = { before?: Before | Before[] };
  const all: Record<string, Hooks | undefined> = {
    ...Object.fromEntries(BUILT_IN_ACTIONS.map((name) => [name, {}])),
    ...(options.actions as Record<string, Hooks | undefined>),
  };
  const actions: Record<string, Hooks> = {};
  for (const [name, action] of Object.entries(all)) {
    if (!action) continue;
    const own = action.before === undefined ? [] : [action.before].flat();
    const guards = QUERYING_ACTIONS.has(name)
      ? [readUnlessPost, knownPropertiesOnly]
      : [readUnlessPost];
    actions[name] = { ...action, before: [...guards, ...own] };
  }
  return { ...options, actions };
}

/** The back office's resources (one file each in ./resources), every action guarded. */
export function buildAdminResources(deps: AdminResourceDeps): ResourceWithOptions[] {
  const resources = [
    usersResource(deps),
    teamsResource(deps),
    teamMembersResource(deps),
    invitationsResource(deps),
    apiKeysResource(deps),
    teamDomainsResource(deps),
    scimTokensResource(deps),
    ssoConnectionsResource(deps),
    activityLogsResource(deps),
    sessionsResource(deps),
    stripeEventsResource(deps),
    webhookEndpointsResource(deps),
    webhookEventsResource(deps),
    webhookDeliveriesResource(deps),
  ];
  // Last, so no resource or action (new ones included) escapes the role check or the request
  // guards (no write but on POST, known properties only).
  return resources.map((entry) => ({
    ...entry,
    options: guardRequests(adminOnlyWrites(entry.options)),
  }));
}
