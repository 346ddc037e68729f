import type { ResourceWithOptions } from 'adminjs';
import { scimTokens } from '../../../database/schema.js';
import { DrizzleResource } from '../drizzle-resource.js';
import {
  navigation,
  readOnly,
  teamRecordAction,
  type AdminResourceDeps,
} from './resource-actions.js';

// A team's SCIM tokens (directory sync): list/show (filter by team for a team's tokens) and
// revoke only. The hash never leaves the server (SECRET_COLUMNS); tokens are made by owners.
export function scimTokensResource({
  db,
  scimTokens: tokens,
}: AdminResourceDeps): ResourceWithOptions {
  const options = readOnly({
    id: 'scim_tokens',
    navigation: navigation.teams,
    titleProperty: 'name',
    sort: { sortBy: 'createdAt', direction: 'desc' },
    listProperties: ['id', 'teamId', 'name', 'prefix', 'createdAt', 'lastUsedAt', 'revokedAt'],
    filterProperties: ['teamId', 'name', 'prefix', 'createdBy', 'createdAt', 'revokedAt'],
    showProperties: [
      'id',
      'teamId',
      'name',
      'prefix',
      'createdBy',
      'createdAt',
      'lastUsedAt',
      'revokedAt',
    ],
    properties: { createdBy: { reference: 'users' } },
    actions: {
      revoke: teamRecordAction({
        icon: 'XCircle',
        guard: 'Revoke this SCIM token? The directory stops provisioning with its next request.',
        isAccessible: ({ record }) => !record?.params.revokedAt,
        message: 'SCIM token revoked',
        // The owners' revoke (ScimTokensService) with the admin as actor: REVOKE_SCIM_TOKEN.
        change: (admin, teamId, id) => tokens.revoke(admin, teamId, id),
      }),
    },
  });
  return { resource: new DrizzleResource(scimTokens, db, { exactMatch: ['prefix'] }), options };
}
