import {
  ForbiddenError,
  NotFoundError,
  ValidationError,
  populator,
  type ActionContext,
  type ActionHandler,
  type ActionRequest,
  type ActionResponse,
  type BaseRecord,
  type Before,
  type ResourceOptions,
  type ResourceWithOptions,
} from 'adminjs';
import { AppError } from '../../common/errors/app-error.js';
import type { Database } from '../../database/database.tokens.js';
import {
  activityLogs,
  apiKeys,
  INVITATION_STATUSES,
  invitations,
  sessions,
  stripeEvents,
  SYSTEM_ROLES,
  TEAM_ROLES,
  teamMembers,
  teams,
  users,
  WEBHOOK_DELIVERY_STATUSES,
  webhookDeliveries,
  webhookEndpoints,
  webhookEvents,
} from '../../database/schema.js';
import { API_KEY_SCOPES, type AdminActor } from '../../common/auth/actor.js';
import { isStaffRole } from '../../common/auth/staff.js';
import type { ApiKeysService } from '../api-keys/api-keys.service.js';
import type { WebhooksService } from '../webhooks/webhooks.service.js';
import type { AdminSessionUser } from './admin-auth.service.js';
import { STAFF_READ_ACTIONS } from './admin-staff-access.js';
import { Components } from './admin.components.js';
import { exportCsvAction } from './admin-export.js';
import type { AdminService } from './admin.service.js';
import { DrizzleResource } from './drizzle-resource.js';

export interface AdminResourceDeps {
  db: Database;
  service: AdminService;
  apiKeys: ApiKeysService;
  webhooks: WebhooksService;
}

const READ_ONLY = { isAccessible: false } as const;

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

const navigation = {
  people: { name: 'People', icon: 'Users' },
  teams: { name: 'Teams', icon: 'Briefcase' },
  records: { name: 'Records', icon: 'Archive' },
};

function principal(context: ActionContext): AdminActor {
  const admin = context.currentAdmin as AdminSessionUser | undefined;
  if (!admin) throw new ForbiddenError('Not signed in');
  // The staff member's real role (refreshed from users.role on every request): services
  // refuse writes by `support` themselves (the access layer), whatever path reached them.
  if (!isStaffRole(admin.role)) throw new ForbiddenError('Not a back-office role');
  return {
    kind: 'admin',
    id: Number(admin.id),
    email: admin.email,
    role: admin.role,
    ip: admin.ip ?? null,
  };
}

/**
 * Runs a service call and turns our coded errors into what AdminJS shows: field errors on
 * the form, or an error notice with the code (e.g. `team.last_owner: ...`). Anything else
 * is a bug and propagates (500, logged).
 */
async function run(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (error instanceof AppError) {
      const fields: Record<string, { message: string; type: string }> = {};
      for (const detail of error.details ?? []) {
        if (detail.field !== undefined) {
          fields[detail.field] = { message: detail.message, type: error.code };
        }
      }
      throw new ValidationError(fields, {
        message: `${error.code}: ${error.message}`,
        type: error.code,
      });
    }
    throw error;
  }
}

function recordId(context: ActionContext): number {
  const id = Number(context.record?.id());
  if (!context.record || !Number.isSafeInteger(id))
    throw new NotFoundError('No such record', 'admin');
  return id;
}

async function reload(context: ActionContext, id: string | number): Promise<BaseRecord> {
  const record = await context.resource.findOne(String(id), context);
  if (!record) throw new NotFoundError('No such record', 'admin');
  const [populated] = await populator([record], context);
  return populated ?? record;
}

/** A form field as sent (AdminJS posts strings); anything else counts as absent. */
function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function payload(request: ActionRequest): Record<string, unknown> {
  return (request.payload ?? {}) as Record<string, unknown>;
}

/** A record action: POST runs `change` and reports success; any other method shows the record. */
function recordChange(
  change: (
    admin: AdminActor,
    id: number,
    request: ActionRequest,
    context: ActionContext,
  ) => Promise<unknown>,
  success: { message: string; then: 'show' | 'list' },
): ActionHandler<ActionResponse> {
  return async (request, _response, context) => {
    const { currentAdmin, h, resource } = context;
    const id = recordId(context);
    if (request.method !== 'post') return { record: context.record!.toJSON(currentAdmin) };
    await run(() => change(principal(context), id, request, context));
    const resourceId = resource._decorated?.id() ?? resource.id();
    if (success.then === 'list') {
      return {
        record: context.record!.toJSON(currentAdmin),
        redirectUrl: h.resourceUrl({ resourceId }),
        notice: { message: success.message, type: 'success' },
      };
    }
    const fresh = await reload(context, id);
    return {
      record: fresh.toJSON(currentAdmin),
      redirectUrl: h.recordActionUrl({ resourceId, recordId: String(id), actionName: 'show' }),
      notice: { message: success.message, type: 'success' },
    };
  };
}

/** Resources with read-only defaults: list/show/search only, no bulk actions. */
function readOnly(options: ResourceOptions): ResourceOptions {
  return {
    ...options,
    actions: {
      new: READ_ONLY,
      edit: READ_ONLY,
      delete: READ_ONLY,
      bulkDelete: READ_ONLY,
      ...options.actions,
    },
  };
}

export function buildAdminResources({
  db,
  service,
  apiKeys: apiKeysService,
  webhooks,
}: AdminResourceDeps): ResourceWithOptions[] {
  const usersOptions: ResourceOptions = readOnly({
    id: 'users',
    navigation: navigation.people,
    titleProperty: 'email',
    sort: { sortBy: 'createdAt', direction: 'desc' },
    listProperties: ['id', 'email', 'name', 'role', 'createdAt', 'deletedAt'],
    filterProperties: ['email', 'name', 'role', 'createdAt', 'deletedAt'],
    editProperties: ['name', 'email', 'role'],
    showProperties: [
      'id',
      'email',
      'name',
      'role',
      'emailVerifiedAt',
      'pendingEmail',
      'mfaEnabledAt',
      'createdAt',
      'updatedAt',
      'deletedAt',
    ],
    properties: {
      role: { availableValues: SYSTEM_ROLES.map((r) => ({ value: r, label: r })) },
    },
    actions: {
      ...exportCsvAction('users', [
        'id',
        'email',
        'name',
        'role',
        'emailVerifiedAt',
        'mfaEnabledAt',
        'createdAt',
        'updatedAt',
        'deletedAt',
      ]),
      edit: {
        isAccessible: ({ record }) => !record?.params.deletedAt,
        handler: recordChange(
          (admin, id, request) => {
            const body = payload(request);
            return service.updateUser(admin, id, {
              name: text(body.name),
              email: text(body.email),
              role: text(body.role),
            });
          },
          { message: 'successfullyUpdated', then: 'show' },
        ),
      },
      // "Delete" is the API's soft delete (same rules as DELETE /users/me), never a row delete.
      delete: {
        isAccessible: ({ record }) => !record?.params.deletedAt,
        guard:
          'This signs the user out everywhere, removes their memberships and frees the email. Continue?',
        handler: recordChange((admin, id) => service.deleteUser(admin, id), {
          message: 'successfullyDeleted',
          then: 'show',
        }),
      },
      setPassword: {
        actionType: 'record',
        icon: 'Key',
        component: Components.SetPassword,
        isAccessible: ({ record }) => !record?.params.deletedAt,
        handler: recordChange(
          (admin, id, request) => service.setPassword(admin, id, payload(request).password),
          { message: 'Password set; every session of this user was revoked', then: 'show' },
        ),
      },
      // Support actions (issue 16): each through the auth module's service, logged against
      // each of the user's teams.
      resendVerification: {
        actionType: 'record',
        icon: 'Mail',
        component: false,
        guard: "Send a new verification link to this user's email address?",
        isAccessible: ({ record }) => !record?.params.deletedAt && !record?.params.emailVerifiedAt,
        handler: recordChange((admin, id) => service.resendVerification(admin, id), {
          message: 'Verification mail queued',
          then: 'show',
        }),
      },
      revokeSessions: {
        actionType: 'record',
        icon: 'LogOut',
        variant: 'danger',
        component: false,
        guard: 'Sign this user out on every device? Their tokens stop working at once.',
        isAccessible: ({ record }) => !record?.params.deletedAt,
        handler: recordChange((admin, id) => service.revokeSessions(admin, id), {
          message: 'Every session of this user was revoked',
          then: 'show',
        }),
      },
      disableMfa: {
        actionType: 'record',
        icon: 'ShieldOff',
        variant: 'danger',
        component: Components.DisableMfa,
        isAccessible: ({ record }) => !record?.params.deletedAt && !!record?.params.mfaEnabledAt,
        handler: recordChange(
          (admin, id, request) => service.disableMfa(admin, id, payload(request).reason),
          { message: 'Two-factor sign-in disabled', then: 'show' },
        ),
      },
    },
  });

  const teamsOptions: ResourceOptions = readOnly({
    id: 'teams',
    navigation: navigation.teams,
    titleProperty: 'name',
    sort: { sortBy: 'createdAt', direction: 'desc' },
    listProperties: ['id', 'name', 'planName', 'subscriptionStatus', 'createdAt'],
    filterProperties: ['name', 'planName', 'subscriptionStatus', 'stripeCustomerId', 'createdAt'],
    // Stripe fields follow Stripe (webhooks): not in the form, and the edit handler only
    // ever writes `name`, whatever the request carries.
    editProperties: ['name'],
    actions: {
      ...exportCsvAction('teams', [
        'id',
        'name',
        'planName',
        'subscriptionStatus',
        'stripeCustomerId',
        'stripeSubscriptionId',
        'stripeProductId',
        'createdAt',
        'updatedAt',
      ]),
      edit: {
        isAccessible: true,
        handler: recordChange(
          (admin, id, request) => service.updateTeam(admin, id, payload(request).name),
          { message: 'successfullyUpdated', then: 'show' },
        ),
      },
    },
  });

  const membersOptions: ResourceOptions = readOnly({
    id: 'team_members',
    navigation: navigation.teams,
    sort: { sortBy: 'joinedAt', direction: 'desc' },
    listProperties: ['id', 'teamId', 'userId', 'role', 'joinedAt'],
    filterProperties: ['teamId', 'userId', 'role', 'joinedAt'],
    // AdminJS uses one form for new and edit; on edit only the role is applied.
    editProperties: ['teamId', 'userId', 'role'],
    properties: {
      teamId: { description: 'Chosen when the membership is created; not changed by Edit' },
      userId: { description: 'Chosen when the membership is created; not changed by Edit' },
      role: { availableValues: TEAM_ROLES.map((r) => ({ value: r, label: r })) },
    },
    actions: {
      new: {
        isAccessible: true,
        // Adding a member needs team, user and role; the form shows all three.
        handler: async (request, _response, context) => {
          if (request.method !== 'post') throw new NotFoundError('Use POST', 'admin');
          let memberId = 0;
          const body = payload(request);
          await run(async () => {
            memberId = await service.addMember(principal(context), {
              teamId: body.teamId,
              userId: body.userId,
              role: body.role,
            });
          });
          const record = await reload(context, memberId);
          return {
            record: record.toJSON(context.currentAdmin),
            redirectUrl: context.h.resourceUrl({ resourceId: 'team_members' }),
            notice: { message: 'successfullyCreated', type: 'success' },
          };
        },
      },
      edit: {
        isAccessible: true,
        handler: recordChange(
          (admin, id, request) => service.updateMemberRole(admin, id, payload(request).role),
          { message: 'successfullyUpdated', then: 'show' },
        ),
      },
      delete: {
        isAccessible: true,
        handler: recordChange((admin, id) => service.removeMember(admin, id), {
          message: 'successfullyDeleted',
          then: 'list',
        }),
      },
    },
  });

  const invitationsOptions: ResourceOptions = readOnly({
    id: 'invitations',
    navigation: navigation.teams,
    titleProperty: 'email',
    sort: { sortBy: 'invitedAt', direction: 'desc' },
    listProperties: ['id', 'teamId', 'email', 'role', 'status', 'invitedBy', 'invitedAt'],
    filterProperties: ['teamId', 'email', 'role', 'status', 'invitedBy', 'invitedAt'],
    properties: {
      role: { availableValues: TEAM_ROLES.map((r) => ({ value: r, label: r })) },
      status: { availableValues: INVITATION_STATUSES.map((s) => ({ value: s, label: s })) },
    },
    actions: {
      revoke: {
        actionType: 'record',
        icon: 'XCircle',
        variant: 'danger',
        component: false,
        guard: 'Revoke this invitation? Its link stops working.',
        isAccessible: ({ record }) => record?.params.status === 'pending',
        handler: recordChange(
          (admin, id, _request, context) =>
            service.revokeInvitation(admin, Number(context.record?.params.teamId), id),
          {
            message: 'Invitation revoked',
            then: 'show',
          },
        ),
      },
    },
  });

  // Team API keys: list/show and revoke only. The hash never leaves the server (SECRET_COLUMNS)
  // and keys are never created or edited here: a key is shown once, to the owner who made it.
  const apiKeysOptions: ResourceOptions = readOnly({
    id: 'api_keys',
    navigation: navigation.teams,
    titleProperty: 'name',
    sort: { sortBy: 'createdAt', direction: 'desc' },
    listProperties: ['id', 'teamId', 'name', 'prefix', 'createdAt', 'expiresAt', 'revokedAt'],
    filterProperties: ['teamId', 'name', 'prefix', 'scopes', 'createdBy', 'createdAt', 'revokedAt'],
    showProperties: [
      'id',
      'teamId',
      'name',
      'prefix',
      'scopes',
      'createdBy',
      'createdAt',
      'expiresAt',
      'lastUsedAt',
      'revokedAt',
    ],
    properties: {
      createdBy: { reference: 'users' },
      scopes: {
        isArray: true,
        type: 'string',
        availableValues: API_KEY_SCOPES.map((scope) => ({ value: scope, label: scope })),
      },
    },
    actions: {
      revoke: {
        actionType: 'record',
        icon: 'XCircle',
        variant: 'danger',
        component: false,
        guard: 'Revoke this API key? It stops working with its next request.',
        isAccessible: ({ record }) => !record?.params.revokedAt,
        // The owners' revoke (ApiKeysService), with the admin as actor: REVOKE_API_KEY by them.
        handler: recordChange(
          (admin, id, _request, context) =>
            apiKeysService.revoke(admin, Number(context.record?.params.teamId), id),
          { message: 'API key revoked', then: 'show' },
        ),
      },
    },
  });

  const activityOptions: ResourceOptions = readOnly({
    id: 'activity_logs',
    navigation: navigation.records,
    sort: { sortBy: 'timestamp', direction: 'desc' },
    listProperties: ['id', 'timestamp', 'action', 'teamId', 'userId', 'ipAddress'],
    filterProperties: ['action', 'teamId', 'userId', 'timestamp', 'ipAddress'],
    actions: {
      ...exportCsvAction('activity_logs', [
        'id',
        'timestamp',
        'action',
        'teamId',
        'userId',
        'ipAddress',
      ]),
    },
  });

  const sessionsOptions: ResourceOptions = readOnly({
    id: 'sessions',
    navigation: navigation.records,
    sort: { sortBy: 'createdAt', direction: 'desc' },
    listProperties: [
      'userId',
      'createdAt',
      'lastRefreshedAt',
      'expiresAt',
      'revokedAt',
      'ipAddress',
    ],
    filterProperties: [
      'userId',
      'revokedReason',
      'createdAt',
      'expiresAt',
      'revokedAt',
      'ipAddress',
    ],
  });

  const stripeEventsOptions: ResourceOptions = readOnly({
    id: 'stripe_events',
    navigation: navigation.records,
    sort: { sortBy: 'processedAt', direction: 'desc' },
    listProperties: ['id', 'type', 'teamId', 'stripeCustomerId', 'createdAt', 'processedAt'],
    filterProperties: ['id', 'type', 'teamId', 'stripeCustomerId', 'createdAt', 'processedAt'],
  });

  // Secrets are stripped server-side (DrizzleResource SECRET_COLUMNS). Disabling goes through
  // WebhooksService (UPDATE_WEBHOOK by the admin); owners can enable the endpoint again.
  const webhookEndpointsOptions: ResourceOptions = readOnly({
    id: 'webhook_endpoints',
    navigation: navigation.teams,
    titleProperty: 'url',
    sort: { sortBy: 'createdAt', direction: 'desc' },
    listProperties: ['id', 'teamId', 'url', 'enabled', 'createdAt'],
    filterProperties: ['teamId', 'url', 'enabled', 'createdAt'],
    showProperties: [
      'id',
      'teamId',
      'url',
      'description',
      'events',
      'enabled',
      'createdAt',
      'updatedAt',
    ],
    actions: {
      disable: {
        actionType: 'record',
        icon: 'PauseCircle',
        variant: 'danger',
        component: false,
        guard: 'Disable this endpoint? It gets no new events and its pending retries fail.',
        isAccessible: ({ record }) => record?.params.enabled === true,
        handler: recordChange(
          (admin, id, _request, context) =>
            webhooks.disable(admin, Number(context.record?.params.teamId), id),
          { message: 'Webhook endpoint disabled', then: 'show' },
        ),
      },
    },
  });

  const webhookDeliveriesOptions: ResourceOptions = readOnly({
    id: 'webhook_deliveries',
    navigation: navigation.records,
    sort: { sortBy: 'createdAt', direction: 'desc' },
    listProperties: [
      'id',
      'endpointId',
      'eventId',
      'status',
      'attempts',
      'lastStatusCode',
      'nextAttemptAt',
      'createdAt',
    ],
    filterProperties: ['endpointId', 'eventId', 'status', 'lastStatusCode', 'createdAt'],
    properties: {
      status: { availableValues: WEBHOOK_DELIVERY_STATUSES.map((s) => ({ value: s, label: s })) },
    },
  });

  // Deliveries reference their event: AdminJS needs the referenced resource to populate them.
  const webhookEventsOptions: ResourceOptions = readOnly({
    id: 'webhook_events',
    navigation: navigation.records,
    sort: { sortBy: 'createdAt', direction: 'desc' },
    listProperties: ['id', 'teamId', 'type', 'createdAt'],
    filterProperties: ['id', 'teamId', 'type', 'createdAt'],
  });

  const resources: ResourceWithOptions[] = [
    { resource: new DrizzleResource(users, db, { exactMatch: ['role'] }), options: usersOptions },
    {
      resource: new DrizzleResource(teams, db, { exactMatch: ['subscriptionStatus'] }),
      options: teamsOptions,
    },
    {
      resource: new DrizzleResource(teamMembers, db, { exactMatch: ['role'] }),
      options: membersOptions,
    },
    {
      resource: new DrizzleResource(invitations, db, { exactMatch: ['role', 'status'] }),
      options: invitationsOptions,
    },
    {
      resource: new DrizzleResource(apiKeys, db, { exactMatch: ['prefix'] }),
      options: apiKeysOptions,
    },
    {
      resource: new DrizzleResource(activityLogs, db, { exactMatch: ['action'] }),
      options: activityOptions,
    },
    {
      resource: new DrizzleResource(sessions, db, { exactMatch: ['revokedReason'] }),
      options: sessionsOptions,
    },
    {
      resource: new DrizzleResource(stripeEvents, db, { exactMatch: ['type'] }),
      options: stripeEventsOptions,
    },
    { resource: new DrizzleResource(webhookEndpoints, db), options: webhookEndpointsOptions },
    {
      resource: new DrizzleResource(webhookEvents, db, { exactMatch: ['id', 'type'] }),
      options: webhookEventsOptions,
    },
    {
      resource: new DrizzleResource(webhookDeliveries, db, { exactMatch: ['status', 'eventId'] }),
      options: webhookDeliveriesOptions,
    },
  ];
  // Last, so no resource or action (new ones included) escapes the role check or the request
  // guards (no write but on POST, known properties only).
  return resources.map((entry) => ({
    ...entry,
    options: guardRequests(adminOnlyWrites(entry.options)),
  }));
}
