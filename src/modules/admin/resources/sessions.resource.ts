import type { ResourceWithOptions } from 'adminjs';
import { sessions } from '../../../database/schema.js';
import { DrizzleResource } from '../drizzle-resource.js';
import { navigation, readOnly, type AdminResourceDeps } from './resource-actions.js';

export function sessionsResource({ db }: AdminResourceDeps): ResourceWithOptions {
  const options = readOnly({
    id: 'sessions',
    navigation: navigation.records,
    sort: { sortBy: 'createdAt', direction: 'desc' },
    listProperties: [
      'userId',
      'createdAt',
      'lastRefreshedAt',
      'expiresAt',
      'revokedAt',
      'ipAddress',
    ],
    filterProperties: [
      'userId',
      'revokedReason',
      'createdAt',
      'expiresAt',
      'revokedAt',
      'ipAddress',
    ],
  });
  return {
    resource: new DrizzleResource(sessions, db, { exactMatch: ['revokedReason'] }),
    options,
  };
}
