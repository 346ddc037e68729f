import { Injectable } from '@nestjs/common';
import { inArray, sql } from 'drizzle-orm';
import { teams } from '../../database/schema.js';
import { LIVE_STATUSES } from '../billing/subscription-status.js';

export interface AdminStats {
  users: number;
  deletedUsers: number;
  admins: number;
  teams: number;
  subscribedTeams: number;
  pendingInvitations: number;
  activityLast24h: number;
}
import { TransactionHost } from '../../database/transaction-host.js';

/**
 * The dashboard's counts: a read model over users, teams, invitations and activity_logs
 * (owned by their modules) in one round trip. It writes nothing; every change the panel makes
 * goes through the owning module's service.
 */
@Injectable()
export class AdminRepository {
  constructor(private readonly txHost: TransactionHost) {}

  /** Dashboard counts in one round trip (`now` bounds the activity window). */
  async stats(now: Date): Promise<AdminStats> {
    const since = new Date(now.getTime() - 24 * 60 * 60 * 1000);
    const result = await this.txHost.db.execute<Record<keyof AdminStats, number>>(sql`
      select
        (select count(*)::int from users where deleted_at is null) as "users",
        (select count(*)::int from users where deleted_at is not null) as "deletedUsers",
        (select count(*)::int from users where deleted_at is null and role = 'admin') as "admins",
        (select count(*)::int from teams) as "teams",
        (select count(*)::int from teams
          where ${inArray(teams.subscriptionStatus, [...LIVE_STATUSES])}) as "subscribedTeams",
        (select count(*)::int from invitations where status = 'pending') as "pendingInvitations",
        (select count(*)::int from activity_logs where "timestamp" >= ${since}) as "activityLast24h"`);
    const row = result.rows[0];
    if (!row) throw new Error('stats query returned no row');
    return row;
  }
}
