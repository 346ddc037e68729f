import type { ResourceWithOptions } from 'adminjs';
import { apiKeys } from '../../../database/schema.js';
import { API_KEY_SCOPES } from '../../../common/auth/actor.js';
import { DrizzleResource } from '../drizzle-resource.js';
import {
  navigation,
  readOnly,
  teamRecordAction,
  type AdminResourceDeps,
} from './resource-actions.js';

// Team API keys: list/show and revoke only. The hash never leaves the server (SECRET_COLUMNS)
// and keys are never created or edited here: a key is shown once, to the owner who made it.
export function apiKeysResource({ db, apiKeys: keys }: AdminResourceDeps): ResourceWithOptions {
  const options = readOnly({
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
      revoke: teamRecordAction({
        icon: 'XCircle',
        guard: 'Revoke this API key? It stops working with its next request.',
        isAccessible: ({ record }) => !record?.params.revokedAt,
        message: 'API key revoked',
        // The owners' revoke (ApiKeysService), with the admin as actor: REVOKE_API_KEY by them.
        change: (admin, teamId, id) => keys.revoke(admin, teamId, id),
      }),
    },
  });
  return { resource: new DrizzleResource(apiKeys, db, { exactMatch: ['prefix'] }), options };
}
