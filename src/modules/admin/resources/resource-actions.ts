import {
  ForbiddenError,
  NotFoundError,
  ValidationError,
  populator,
  type Action,
  type ActionContext,
  type ActionHandler,
  type ActionRequest,
  type ActionResponse,
  type BaseRecord,
  type ResourceOptions,
} from 'adminjs';
import { AppError } from '../../../common/errors/app-error.js';
import type { AdminActor } from '../../../common/auth/actor.js';
import { isStaffRole } from '../../../common/auth/staff.js';
import type { Database } from '../../../database/database.tokens.js';
import type { ApiKeysService } from '../../api-keys/api-keys.service.js';
import type { DomainsService } from '../../domains/domains.service.js';
import type { ScimTokensService } from '../../scim/scim-tokens.service.js';
import type { SsoService } from '../../sso/sso.service.js';
import type { WebhooksService } from '../../webhooks/webhooks.service.js';
import type { AdminSessionUser } from '../admin-auth.service.js';
import type { AdminService } from '../admin.service.js';

/** What the resources act through: the database for reads, the services for every write. */
export interface AdminResourceDeps {
  db: Database;
  service: AdminService;
  apiKeys: ApiKeysService;
  webhooks: WebhooksService;
  domains: DomainsService;
  scimTokens: ScimTokensService;
  sso: SsoService;
}

const READ_ONLY = { isAccessible: false } as const;

export const navigation = {
  people: { name: 'People', icon: 'Users' },
  teams: { name: 'Teams', icon: 'Briefcase' },
  records: { name: 'Records', icon: 'Archive' },
};

export function principal(context: ActionContext): AdminActor {
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
export async function run(call: () => Promise<unknown>): Promise<void> {
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

export async function reload(context: ActionContext, id: string | number): Promise<BaseRecord> {
  const record = await context.resource.findOne(String(id), context);
  if (!record) throw new NotFoundError('No such record', 'admin');
  const [populated] = await populator([record], context);
  return populated ?? record;
}

/** A form field as sent (AdminJS posts strings); anything else counts as absent. */
export function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function payload(request: ActionRequest): Record<string, unknown> {
  return (request.payload ?? {}) as Record<string, unknown>;
}

/** A record action: POST runs `change` and reports success; any other method shows the record. */
export function recordChange(
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
export function readOnly(options: ResourceOptions): ResourceOptions {
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

/**
 * A confirmed record action on a team's row (revoke an invitation or an API key, disable an
 * endpoint): POST calls `change` with the row's team and id, then shows the record again.
 */
export function teamRecordAction({
  change,
  message,
  ...shown
}: {
  icon: string;
  guard: string;
  isAccessible: (context: ActionContext) => boolean;
  message: string;
  change: (admin: AdminActor, teamId: number, id: number) => Promise<unknown>;
}): Partial<Action<ActionResponse>> {
  return {
    actionType: 'record',
    variant: 'danger',
    component: false,
    ...shown,
    handler: recordChange(
      (admin, id, _request, context) => change(admin, Number(context.record?.params.teamId), id),
      { message, then: 'show' },
    ),
  };
}
