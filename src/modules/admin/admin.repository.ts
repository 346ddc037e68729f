import { Injectable } from '@nestjs/common';
import { eq, inArray, sql } from 'drizzle-orm';
import { teamMembers, teams, users, type SystemRole } from '../../database/schema.js';
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

/** The few queries only the back office needs; everything else comes from the owning modules. */
@Injectable()
export class AdminRepository {
  constructor(private readonly txHost: TransactionHost) {}

  async setRole(id: number, role: SystemRole, now: Date): Promise<void> {
    await this.txHost.db.update(users).set({ role, updatedAt: now }).where(eq(users.id, id));
  }

  /** A membership by id alone: the panel addresses memberships without a team in the path. */
  async findMemberTeamId(memberId: number): Promise<number | undefined> {
    const [row] = await this.txHost.db
      .select({ teamId: teamMembers.teamId })
      .from(teamMembers)
      .where(eq(teamMembers.id, memberId))
      .limit(1);
    return row?.teamId;
  }

  async teamIdsOfUser(userId: number): Promise<number[]> {
    const rows = await this.txHost.db
      .select({ teamId: teamMembers.teamId })
      .from(teamMembers)
      .where(eq(teamMembers.userId, userId));
    return rows.map((r) => r.teamId);
  }

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
