import type { After, ActionResponse, PropertyOptions, ResourceWithOptions } from 'adminjs';
import { teamDomains } from '../../../database/schema.js';
import { DrizzleResource } from '../drizzle-resource.js';
import {
  navigation,
  principal,
  readOnly,
  recordChange,
  type AdminResourceDeps,
} from './resource-actions.js';

/**
 * Teams' domains (API.md v1.2 "Verified domains"): list and show, and remove, which goes
 * through DomainsService with the admin as actor (REMOVE_DOMAIN by them, in the same
 * transaction). Nothing is added or verified here: that is the owners' DNS proof. The TXT
 * value is no secret (it is published in DNS), so it is shown.
 */
export function teamDomainsResource({ db, domains }: AdminResourceDeps): ResourceWithOptions {
  const options = readOnly({
    id: 'team_domains',
    navigation: navigation.teams,
    titleProperty: 'domain',
    sort: { sortBy: 'createdAt', direction: 'desc' },
    listProperties: ['id', 'teamId', 'domain', 'verifiedAt', 'createdAt'],
    filterProperties: ['teamId', 'domain', 'verifiedAt', 'createdAt'],
    showProperties: ['id', 'teamId', 'domain', 'txtValue', 'verifiedAt', 'createdAt'],
    actions: {
      remove: {
        actionType: 'record',
        variant: 'danger',
        component: false,
        icon: 'Trash2',
        guard:
          "Remove this domain from the team? Its addresses stop being the team's at once: SAML sign-in refuses them and SSO enforcement no longer applies to them.",
        handler: recordChange(
          (admin, id, _request, context) =>
            domains.remove(admin, Number(context.record?.params.teamId), id),
          { message: 'Domain removed', then: 'list' },
        ),
      },
    },
  });
  return {
    resource: new DrizzleResource(teamDomains, db, { exactMatch: ['domain'] }),
    options,
  };
}

/** The `domains` line on a team's page: a property no column backs, filled by `showTeamDomains`. */
export const TEAM_DOMAINS_PROPERTY: PropertyOptions = {
  type: 'textarea',
  isVisible: { list: false, filter: false, show: true, edit: false },
  description: 'Verified and pending domains (API: /teams/:teamId/domains)',
};

/**
 * After a team's show action: its domains, one a line (`example.com — verified 2026-12-08`,
 * `example.org — pending`), read through DomainsService with the admin as actor (support
 * staff may read).
 */
export function showTeamDomains({ domains }: AdminResourceDeps): After<ActionResponse> {
  return async (response, _request, context) => {
    const record = (response as { record?: { params: Record<string, unknown> } }).record;
    const teamId = Number(record?.params.id);
    if (!record || !Number.isSafeInteger(teamId)) return response;
    const page = await domains.list(principal(context), teamId, { limit: 100 });
    record.params.domains =
      page.items.length === 0
        ? '—'
        : page.items
            .map(
              (d) =>
                `${d.domain} — ${d.verifiedAt ? `verified ${d.verifiedAt.toISOString().slice(0, 10)}` : 'pending'}`,
            )
            .join('\n');
    return response;
  };
}
