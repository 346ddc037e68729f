import type { ResourceWithOptions } from 'adminjs';
import { webhookEndpoints } from '../../../database/schema.js';
import { DrizzleResource } from '../drizzle-resource.js';
import {
  navigation,
  readOnly,
  teamRecordAction,
  type AdminResourceDeps,
} from './resource-actions.js';

// Secrets are stripped server-side (DrizzleResource SECRET_COLUMNS). Disabling goes through
// WebhooksService (UPDATE_WEBHOOK by the admin); owners can enable the endpoint again.
export function webhookEndpointsResource({ db, webhooks }: AdminResourceDeps): ResourceWithOptions {
  const options = readOnly({
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
      disable: teamRecordAction({
        icon: 'PauseCircle',
        guard: 'Disable this endpoint? It gets no new events and its pending retries fail.',
        isAccessible: ({ record }) => record?.params.enabled === true,
        message: 'Webhook endpoint disabled',
        change: (admin, teamId, id) => webhooks.disable(admin, teamId, id),
      }),
    },
  });
  return { resource: new DrizzleResource(webhookEndpoints, db), options };
}
