import { Injectable } from '@nestjs/common';
import { eq } from 'drizzle-orm';
import { teamMembers, users, type SystemRole } from '../../database/schema.js';
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
}
