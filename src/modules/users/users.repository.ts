import { Injectable } from '@nestjs/common';
import { and, asc, eq, isNull, ne, sql } from 'drizzle-orm';
import type { DbClient } from '../../database/database.tokens.js';
import { PreparedQuery, type Placeheld } from '../../database/prepared-query.js';
import { TransactionHost } from '../../database/transaction-host.js';
import {
  teamMembers,
  teams,
  users,
  type NewUser,
  type SystemRole,
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

function activeByIdQuery(db: DbClient, { id }: Placeheld<{ id: number }>) {
  return db
    .select()
    .from(users)
    .where(and(eq(users.id, id), active))
    .limit(1);
}

function membershipsQuery(db: DbClient, { userId }: Placeheld<{ userId: number }>) {
  return db
    .select({
      teamId: teamMembers.teamId,
      teamName: teams.name,
      role: teamMembers.role,
      joinedAt: teamMembers.joinedAt,
    })
    .from(teamMembers)
    .innerJoin(teams, eq(teams.id, teamMembers.teamId))
    .where(eq(teamMembers.userId, userId))
    .orderBy(asc(teamMembers.joinedAt), asc(teamMembers.id));
}

@Injectable()
export class UsersRepository {
  // GET /users/me reads both on every call: named prepared statements outside transactions.
  private readonly activeById = new PreparedQuery(
    this.txHost,
    'users_find_active_by_id',
    activeByIdQuery,
  );
  private readonly membershipsOf = new PreparedQuery(
    this.txHost,
    'users_memberships',
    membershipsQuery,
  );

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
    const [row] = await this.activeById.execute({ id });
    return row;
  }

  /** The active user's row, locked for the rest of the transaction (serialises MFA changes). */
  async lockActiveById(id: number): Promise<User | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(users)
      .where(and(eq(users.id, id), active))
      .for('update')
      .limit(1);
    return row;
  }

  /** Raises `sessionEpoch` by one (deleted users too: it only ever ends sessions). */
  async raiseSessionEpoch(id: number): Promise<void> {
    await this.txHost.db
      .update(users)
      .set({ sessionEpoch: sql`${users.sessionEpoch} + 1` })
      .where(eq(users.id, id));
  }

  /** Turns two-factor sign-in on (`at`) or off (null). */
  async setMfaEnabledAt(id: number, at: Date | null, now: Date): Promise<User | undefined> {
    const [row] = await this.txHost.db
      .update(users)
      .set({ mfaEnabledAt: at, updatedAt: now })
      .where(and(eq(users.id, id), active))
      .returning();
    return row;
  }

  /** Throws the driver's unique violation (users_email_unique) when the email is taken. */
  async insert(values: Pick<NewUser, 'email' | 'name' | 'passwordHash' | 'locale'>): Promise<User> {
    const [row] = await this.txHost.db.insert(users).values(values).returning();
    if (!row) throw new Error('users insert returned no row');
    return row;
  }

  /** Another active user (not `exceptId`) whose email is `email`. */
  async emailInUseByOther(email: string, exceptId: number): Promise<boolean> {
    const [row] = await this.txHost.db
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.email, email), ne(users.id, exceptId), active))
      .limit(1);
    return row !== undefined;
  }

  /**
   * A plain update. Setting `email` to another address (the admin panel, the deletion
   * rewrite) leaves the new address unverified and drops any pending change: only a
   * verification link (`applyVerifiedEmail`) proves an address.
   */
  async update(
    id: number,
    patch: Partial<Pick<User, 'name' | 'email' | 'passwordHash' | 'deletedAt' | 'locale'>>,
    now: Date,
  ): Promise<User | undefined> {
    const emailChange =
      patch.email === undefined
        ? {}
        : {
            emailVerifiedAt: sql`case when ${users.email} = ${patch.email} then ${users.emailVerifiedAt} end`,
            pendingEmail: sql`case when ${users.email} = ${patch.email} then ${users.pendingEmail} end`,
          };
    const [row] = await this.txHost.db
      .update(users)
      .set({ ...patch, ...emailChange, updatedAt: now })
      .where(and(eq(users.id, id), active))
      .returning();
    return row;
  }

  /** Marks `email` verified if it still is the user's address; undefined otherwise. */
  async markEmailVerified(id: number, email: string, now: Date): Promise<User | undefined> {
    const [row] = await this.txHost.db
      .update(users)
      .set({
        emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, ${now.toISOString()}::timestamp)`,
        updatedAt: now,
      })
      .where(and(eq(users.id, id), eq(users.email, email), active))
      .returning();
    return row;
  }

  /** `null` cancels a pending change. */
  async setPendingEmail(
    id: number,
    pendingEmail: string | null,
    now: Date,
  ): Promise<User | undefined> {
    const [row] = await this.txHost.db
      .update(users)
      .set({ pendingEmail, updatedAt: now })
      .where(and(eq(users.id, id), active))
      .returning();
    return row;
  }

  /**
   * A confirmed email change: `email` becomes the address, verified, and nothing is pending.
   * An account that was verified keeps its `emailVerifiedAt`: it had a proven address all
   * along, and what it set up meanwhile was not set up unverified (a password reset removes
   * only that, see MailboxProofService). Throws the driver's unique violation
   * (users_email_unique) when another row has the address.
   */
  async applyVerifiedEmail(id: number, email: string, now: Date): Promise<User | undefined> {
    const [row] = await this.txHost.db
      .update(users)
      .set({
        email,
        emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, ${now.toISOString()}::timestamp)`,
        pendingEmail: null,
        updatedAt: now,
      })
      .where(and(eq(users.id, id), active))
      .returning();
    return row;
  }

  async setRole(id: number, role: SystemRole, now: Date): Promise<User | undefined> {
    const [row] = await this.txHost.db
      .update(users)
      .set({ role, updatedAt: now })
      .where(and(eq(users.id, id), active))
      .returning();
    return row;
  }

  /**
   * The user's teams for GET /users/me. A read model: it joins team_members and teams (owned
   * by the teams module, a floor above users) so the response is one round trip.
   */
  memberships(userId: number): Promise<MembershipRow[]> {
    // `role` is varchar in the schema; team_members_role_check holds it to TeamRole.
    return this.membershipsOf.execute({ userId }) as Promise<MembershipRow[]>;
  }
}
