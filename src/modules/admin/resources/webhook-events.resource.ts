import type { ResourceWithOptions } from 'adminjs';
import { webhookEvents } from '../../../database/schema.js';
import { DrizzleResource } from '../drizzle-resource.js';
import { navigation, readOnly, type AdminResourceDeps } from './resource-actions.js';

// Deliveries reference their event: AdminJS needs the referenced resource to populate them.
export function webhookEventsResource({ db }: AdminResourceDeps): ResourceWithOptions {
  const options = readOnly({
    id: 'webhook_events',
    navigation: navigation.records,
    sort: { sortBy: 'createdAt', direction: 'desc' },
    listProperties: ['id', 'teamId', 'type', 'createdAt'],
    filterProperties: ['id', 'teamId', 'type', 'createdAt'],
  });
  return {
    resource: new DrizzleResource(webhookEvents, db, { exactMatch: ['id', 'type'] }),
    options,
  };
}
