import type { ResourceWithOptions } from 'adminjs';
import { WEBHOOK_DELIVERY_STATUSES, webhookDeliveries } from '../../../database/schema.js';
import { DrizzleResource } from '../drizzle-resource.js';
import { navigation, readOnly, type AdminResourceDeps } from './resource-actions.js';

export function webhookDeliveriesResource({ db }: AdminResourceDeps): ResourceWithOptions {
  const options = readOnly({
    id: 'webhook_deliveries',
    navigation: navigation.records,
    sort: { sortBy: 'createdAt', direction: 'desc' },
    listProperties: [
      'id',
      'endpointId',
      'eventId',
      'status',
      'attempts',
      'lastStatusCode',
      'nextAttemptAt',
      'createdAt',
    ],
    filterProperties: ['endpointId', 'eventId', 'status', 'lastStatusCode', 'createdAt'],
    properties: {
      status: { availableValues: WEBHOOK_DELIVERY_STATUSES.map((s) => ({ value: s, label: s })) },
    },
  });
  return {
    resource: new DrizzleResource(webhookDeliveries, db, { exactMatch: ['status', 'eventId'] }),
    options,
  };
}
