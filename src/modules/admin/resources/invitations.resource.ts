import type { ResourceWithOptions } from 'adminjs';
import { INVITATION_STATUSES, invitations, TEAM_ROLES } from '../../../database/schema.js';
import { DrizzleResource } from '../drizzle-resource.js';
import {
  navigation,
  readOnly,
  teamRecordAction,
  type AdminResourceDeps,
} from './resource-actions.js';

export function invitationsResource({ db, service }: AdminResourceDeps): ResourceWithOptions {
  const options = readOnly({
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
      revoke: teamRecordAction({
        icon: 'XCircle',
        guard: 'Revoke this invitation? Its link stops working.',
        isAccessible: ({ record }) => record?.params.status === 'pending',
        message: 'Invitation revoked',
        change: (admin, teamId, id) => service.revokeInvitation(admin, teamId, id),
      }),
    },
  });
  return {
    resource: new DrizzleResource(invitations, db, { exactMatch: ['role', 'status'] }),
    options,
  };
}
