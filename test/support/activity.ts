import { and, asc, eq, type SQL } from 'drizzle-orm';
import type { Database } from '../../src/database/database.tokens.js';
import { activityLogs, type ActivityLog } from '../../src/database/schema.js';

/** The activity rows matching every given field, oldest first. */
export function activityRows(
  db: Database,
  filter: { userId?: number; teamId?: number; action?: string },
): Promise<ActivityLog[]> {
  const conditions: SQL[] = [];
  if (filter.userId !== undefined) conditions.push(eq(activityLogs.userId, filter.userId));
  if (filter.teamId !== undefined) conditions.push(eq(activityLogs.teamId, filter.teamId));
  if (filter.action !== undefined) conditions.push(eq(activityLogs.action, filter.action));
  return db
    .select()
    .from(activityLogs)
    .where(and(...conditions))
    .orderBy(asc(activityLogs.id));
}
