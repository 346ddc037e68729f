import type { ResourceWithOptions } from 'adminjs';
import { stripeEvents } from '../../../database/schema.js';
import { DrizzleResource } from '../drizzle-resource.js';
import { navigation, readOnly, type AdminResourceDeps } from './resource-actions.js';

export function stripeEventsResource({ db }: AdminResourceDeps): ResourceWithOptions {
  const options = readOnly({
    id: 'stripe_events',
    navigation: navigation.records,
    sort: { sortBy: 'processedAt', direction: 'desc' },
    listProperties: ['id', 'type', 'teamId', 'stripeCustomerId', 'createdAt', 'processedAt'],
    filterProperties: ['id', 'type', 'teamId', 'stripeCustomerId', 'createdAt', 'processedAt'],
  });
  return { resource: new DrizzleResource(stripeEvents, db, { exactMatch: ['type'] }), options };
}
