import type { ActionResponse, After, PropertyOptions, ResourceWithOptions } from 'adminjs';
import { scimTokens } from '../../../database/schema.js';
import { DrizzleResource } from '../drizzle-resource.js';
import {
  navigation,
  principal,
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

/** The `scimTokens` line on a team's page: a property no column backs, filled by `showTeamScimTokens`. */
export const TEAM_SCIM_TOKENS_PROPERTY: PropertyOptions = {
  type: 'textarea',
  isVisible: { list: false, filter: false, show: true, edit: false },
  description: 'Live SCIM tokens of the directory sync (API: /teams/:teamId/scim/tokens)',
};

/**
 * After a team's show action: its live SCIM tokens, one a line (`Okta (scim_5b0c…) — created
 * 2026-12-08, last used 2026-12-08`), read through ScimTokensService with the admin as actor
 * (support staff may read). Revoking is the `scim_tokens` resource's action.
 */
export function showTeamScimTokens({ scimTokens }: AdminResourceDeps): After<ActionResponse> {
  return async (response, _request, context) => {
    const record = (response as { record?: { params: Record<string, unknown> } }).record;
    const teamId = Number(record?.params.id);
    if (!record || !Number.isSafeInteger(teamId)) return response;
    const page = await scimTokens.list(principal(context), teamId, { limit: 100 });
    const day = (date: Date) => date.toISOString().slice(0, 10);
    record.params.scimTokens =
      page.items.length === 0
        ? '—'
        : page.items
            .map(
              (t) =>
                `${t.name} (${t.prefix}) — created ${day(t.createdAt)}, ${t.lastUsedAt ? `last used ${day(t.lastUsedAt)}` : 'never used'}`,
            )
            .join('\n');
    return response;
  };
}
