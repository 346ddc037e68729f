import { Injectable } from '@nestjs/common';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { TransactionHost } from '../../database/transaction-host.js';
import { teamMembers, teams, type Team, type TeamRole } from '../../database/schema.js';

/** Team and membership writes that account lifecycle (sign-up, deletion) needs. */
@Injectable()
export class AccountRepository {
  constructor(private readonly txHost: TransactionHost) {}

  async createTeam(name: string): Promise<Team> {
    const [row] = await this.txHost.db.insert(teams).values({ name }).returning();
    if (!row) throw new Error('teams insert returned no row');
    return row;
  }

  async addMember(teamId: number, userId: number, role: TeamRole): Promise<void> {
    await this.txHost.db.insert(teamMembers).values({ teamId, userId, role });
  }

  /**
   * Locks (FOR UPDATE, in id order) the teams the user belongs to, so a concurrent role change
   * or removal in those teams cannot slip between the last-owner check and the deletion.
   */
  async lockTeamsOfUser(userId: number): Promise<number[]> {
    const mine = this.txHost.db
      .select({ teamId: teamMembers.teamId })
      .from(teamMembers)
      .where(eq(teamMembers.userId, userId));
    const rows = await this.txHost.db
      .select({ id: teams.id })
      .from(teams)
      .where(inArray(teams.id, mine))
      .orderBy(asc(teams.id))
      .for('update');
    return rows.map((r) => r.id);
  }

  /** Teams where the user is the only owner while other members remain. */
  async teamsOnlyOwnedByWithOthers(userId: number): Promise<number[]> {
    const rows = await this.txHost.db
      .select({ teamId: teamMembers.teamId })
      .from(teamMembers)
      .where(
        and(
          eq(teamMembers.userId, userId),
          eq(teamMembers.role, 'owner'),
          sql`not exists (select 1 from ${teamMembers} o where o.team_id = ${teamMembers.teamId} and o.user_id <> ${userId} and o.role = 'owner')`,
          sql`exists (select 1 from ${teamMembers} m where m.team_id = ${teamMembers.teamId} and m.user_id <> ${userId})`,
        ),
      )
      .orderBy(asc(teamMembers.teamId));
    return rows.map((r) => r.teamId);
  }

  async deleteMembershipsOfUser(userId: number): Promise<void> {
    await this.txHost.db.delete(teamMembers).where(eq(teamMembers.userId, userId));
  }
}
