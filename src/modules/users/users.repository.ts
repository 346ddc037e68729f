import { Injectable } from '@nestjs/common';
import { and, asc, eq, isNull } from 'drizzle-orm';
import { TransactionHost } from '../../database/transaction-host.js';
import {
  teamMembers,
  teams,
  users,
  type NewUser,
  type TeamRole,
  type User,
} from '../../database/schema.js';

export interface MembershipRow {
  teamId: number;
  teamName: string;
  role: TeamRole;
  joinedAt: Date;
}

const active = isNull(users.deletedAt);

@Injectable()
export class UsersRepository {
  constructor(private readonly txHost: TransactionHost) {}

  async findActiveByEmail(email: string): Promise<User | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(users)
      .where(and(eq(users.email, email), active))
      .limit(1);
    return row;
  }

  async findActiveById(id: number): Promise<User | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(users)
      .where(and(eq(users.id, id), active))
      .limit(1);
    return row;
  }

  /** Throws the driver's unique violation (users_email_unique) when the email is taken. */
  async insert(values: Pick<NewUser, 'email' | 'name' | 'passwordHash'>): Promise<User> {
    const [row] = await this.txHost.db.insert(users).values(values).returning();
    if (!row) throw new Error('users insert returned no row');
    return row;
  }

  async update(
    id: number,
    patch: Partial<Pick<User, 'name' | 'email' | 'passwordHash' | 'deletedAt'>>,
    now: Date,
  ): Promise<User | undefined> {
    const [row] = await this.txHost.db
      .update(users)
      .set({ ...patch, updatedAt: now })
      .where(and(eq(users.id, id), active))
      .returning();
    return row;
  }

  memberships(userId: number): Promise<MembershipRow[]> {
    return this.txHost.db
      .select({
        teamId: teamMembers.teamId,
        teamName: teams.name,
        role: teamMembers.role,
        joinedAt: teamMembers.joinedAt,
      })
      .from(teamMembers)
      .innerJoin(teams, eq(teams.id, teamMembers.teamId))
      .where(eq(teamMembers.userId, userId))
      .orderBy(asc(teamMembers.joinedAt), asc(teamMembers.id)) as Promise<MembershipRow[]>;
  }
}
