import type { ResourceWithOptions } from 'adminjs';
import { SYSTEM_ROLES, users } from '../../../database/schema.js';
import { Components } from '../admin.components.js';
import { exportCsvAction } from '../admin-export.js';
import { DrizzleResource } from '../drizzle-resource.js';
import {
  navigation,
  payload,
  readOnly,
  recordChange,
  text,
  type AdminResourceDeps,
} from './resource-actions.js';

export function usersResource({ db, service }: AdminResourceDeps): ResourceWithOptions {
  const options = readOnly({
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
      'locale',
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
  return { resource: new DrizzleResource(users, db, { exactMatch: ['role'] }), options };
}
