import type { ResourceWithOptions } from 'adminjs';
import { teams } from '../../../database/schema.js';
import { exportCsvAction } from '../admin-export.js';
import { DrizzleResource } from '../drizzle-resource.js';
import {
  navigation,
  payload,
  readOnly,
  recordChange,
  type AdminResourceDeps,
} from './resource-actions.js';
import { showTeamDomains, TEAM_DOMAINS_PROPERTY } from './team-domains.resource.js';

export function teamsResource(deps: AdminResourceDeps): ResourceWithOptions {
  const { db, service } = deps;
  const options = readOnly({
    id: 'teams',
    navigation: navigation.teams,
    titleProperty: 'name',
    sort: { sortBy: 'createdAt', direction: 'desc' },
    listProperties: ['id', 'name', 'planName', 'subscriptionStatus', 'createdAt'],
    filterProperties: ['name', 'planName', 'subscriptionStatus', 'stripeCustomerId', 'createdAt'],
    // Stripe fields follow Stripe (webhooks): not in the form, and the edit handler only
    // ever writes `name`, whatever the request carries.
    editProperties: ['name'],
    properties: { domains: TEAM_DOMAINS_PROPERTY },
    actions: {
      show: { after: showTeamDomains(deps) },
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
  return {
    resource: new DrizzleResource(teams, db, { exactMatch: ['subscriptionStatus'] }),
    options,
  };
}
