import { Injectable } from '@nestjs/common';
import { and, desc, eq, gt, inArray, lt, lte, sql, type SQL } from 'drizzle-orm';
import {
  invitations,
  teams,
  users,
  type Invitation,
  type InvitationStatus,
  type TeamRole,
} from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';

export interface InvitationRow extends Invitation {
  teamName: string;
  inviterName: string | null;
}

const listColumns = {
  id: invitations.id,
  teamId: invitations.teamId,
  email: invitations.email,
  role: invitations.role,
  invitedBy: invitations.invitedBy,
  invitedAt: invitations.invitedAt,
  status: invitations.status,
  // A read model: the team's and the inviter's names (tables owned by teams and users) are
  // joined so a list page is one round trip. Nothing here writes those tables.
  teamName: teams.name,
  inviterName: users.name,
};

@Injectable()
export class InvitationsRepository {
  constructor(private readonly txHost: TransactionHost) {}

  /**
   * Inserts a pending invitation; undefined when one is already pending for (team, email)
   * (the partial unique index decides, so concurrent invites cannot both succeed).
   */
  async insertPending(values: {
    teamId: number;
    email: string;
    role: TeamRole;
    invitedBy: number;
    invitedAt: Date;
  }): Promise<Invitation | undefined> {
    const [row] = await this.txHost.db
      .insert(invitations)
      .values({ ...values, status: 'pending' })
      .onConflictDoNothing({
        target: [invitations.teamId, invitations.email],
        where: sql`${invitations.status} = 'pending'`,
      })
      .returning();
    return row;
  }

  /** Marks pending invitations that expired (invitedAt <= cutoff) so a new one can be sent. */
  async retireExpired(teamId: number, email: string, cutoff: Date): Promise<number> {
    const rows = await this.txHost.db
      .update(invitations)
      .set({ status: 'expired' })
      .where(
        and(
          eq(invitations.teamId, teamId),
          eq(invitations.email, email),
          eq(invitations.status, 'pending'),
          lte(invitations.invitedAt, cutoff),
        ),
      )
      .returning({ id: invitations.id });
    return rows.length;
  }

  /** Locks and returns an invitation by id (for accept/decline by the invitee). */
  async findByIdForUpdate(id: number): Promise<Invitation | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(invitations)
      .where(eq(invitations.id, id))
      .for('update');
    return row;
  }

  /** Locks and returns an invitation by team id and id (for the team's owners). */
  async findInTeamForUpdate(teamId: number, id: number): Promise<Invitation | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(invitations)
      .where(and(eq(invitations.teamId, teamId), eq(invitations.id, id)))
      .for('update');
    return row;
  }

  async setStatus(id: number, status: InvitationStatus): Promise<void> {
    await this.txHost.db.update(invitations).set({ status }).where(eq(invitations.id, id));
  }

  /** Live (pending, invited after `cutoff`) invitations of a team, newest first. */
  listPendingForTeam(
    teamId: number,
    cutoff: Date,
    limit: number,
    beforeId?: number,
  ): Promise<InvitationRow[]> {
    return this.listPending(eq(invitations.teamId, teamId), cutoff, limit, beforeId);
  }

  /** Live invitations addressed to `email` (lower-case), newest first. */
  listPendingForEmail(
    email: string,
    cutoff: Date,
    limit: number,
    beforeId?: number,
  ): Promise<InvitationRow[]> {
    return this.listPending(eq(invitations.email, email), cutoff, limit, beforeId);
  }

  private async listPending(
    scope: SQL,
    cutoff: Date,
    limit: number,
    beforeId: number | undefined,
  ): Promise<InvitationRow[]> {
    const where: SQL[] = [
      scope,
      eq(invitations.status, 'pending'),
      gt(invitations.invitedAt, cutoff),
    ];
    if (beforeId !== undefined) where.push(lt(invitations.id, beforeId));
    return this.txHost.db
      .select(listColumns)
      .from(invitations)
      .innerJoin(teams, eq(teams.id, invitations.teamId))
      .innerJoin(users, eq(users.id, invitations.invitedBy))
      .where(and(...where))
      .orderBy(desc(invitations.id))
      .limit(limit);
  }

  /** Housekeeping: up to `limit` pending invitations sent at or before `cutoff` become `expired`. */
  async expirePending(cutoff: Date, limit: number): Promise<number> {
    const due = this.txHost.db
      .select({ id: invitations.id })
      .from(invitations)
      .where(and(eq(invitations.status, 'pending'), lte(invitations.invitedAt, cutoff)))
      .limit(limit);
    const rows = await this.txHost.db
      .update(invitations)
      .set({ status: 'expired' })
      .where(and(inArray(invitations.id, due), eq(invitations.status, 'pending')))
      .returning({ id: invitations.id });
    return rows.length;
  }
}
