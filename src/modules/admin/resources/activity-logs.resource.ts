import type { ResourceWithOptions } from 'adminjs';
import { activityLogs } from '../../../database/schema.js';
import { exportCsvAction } from '../admin-export.js';
import { DrizzleResource } from '../drizzle-resource.js';
import { navigation, readOnly, type AdminResourceDeps } from './resource-actions.js';

export function activityLogsResource({ db }: AdminResourceDeps): ResourceWithOptions {
  const options = readOnly({
    id: 'activity_logs',
    navigation: navigation.records,
    sort: { sortBy: 'timestamp', direction: 'desc' },
    listProperties: ['id', 'timestamp', 'action', 'teamId', 'userId', 'ipAddress'],
    filterProperties: ['action', 'teamId', 'userId', 'timestamp', 'ipAddress'],
    actions: {
      ...exportCsvAction('activity_logs', [
        'id',
        'timestamp',
        'action',
        'teamId',
        'userId',
        'ipAddress',
      ]),
    },
  });
  return { resource: new DrizzleResource(activityLogs, db, { exactMatch: ['action'] }), options };
}
