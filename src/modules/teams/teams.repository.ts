import { Injectable } from '@nestjs/common';
import {
  and,
  asc,
  count,
  desc,
  eq,
  getTableColumns,
  inArray,
  isNull,
  lt,
  ne,
  sql,
  type SQL,
} from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import {
  teamMembers,
  teams,
  users,
  type PlanLimits,
  type Team,
  type TeamRole,
} from '../../database/schema.js';
import type { DbClient } from '../../database/database.tokens.js';
import {
  PreparedQuery,
  timestampFromDriver,
  type Placeheld,
} from '../../database/prepared-query.js';
import { TransactionHost } from '../../database/transaction-host.js';

export interface Membership {
  id: number;
  teamId: number;
  userId: number;
  role: TeamRole;
  joinedAt: Date;
}

export interface MemberWithUser extends Membership {
  user: { id: number; name: string | null; email: string };
}

export type TeamWithMembers = Team & { teamMembers: MemberWithUser[] };

export interface MyTeamRow {
  team: Team;
  membership: Membership;
}

export interface SoleOwnedTeam {
  team: Team;
  /** Whether anyone besides the user belongs to the team. */
  hasOtherMembers: boolean;
}

/** The billing columns of a team row (the billing module's, written from Stripe). */
export type BillingColumns = Partial<
  Pick<
    Team,
    | 'stripeCustomerId'
    | 'stripeSubscriptionId'
    | 'stripeProductId'
    | 'planName'
    | 'subscriptionStatus'
    | 'planLimits'
    | 'perSeat'
    | 'stripeSubscriptionItemId'
    | 'cancelAtPeriodEnd'
    | 'currentPeriodEnd'
  >
>;

const membershipColumns = {
  id: teamMembers.id,
  teamId: teamMembers.teamId,
  userId: teamMembers.userId,
  role: teamMembers.role,
  joinedAt: teamMembers.joinedAt,
};

/** team_members.role is varchar with a check constraint limiting it to the TeamRole values. */
function asMembership(row: {
  id: number;
  teamId: number;
  userId: number;
  role: string;
  joinedAt: Date;
}): Membership {
  return { ...row, role: row.role as TeamRole };
}

/**
 * A member as the team read's `json_build_array` lists it: membership id, team id, user id,
 * role, joined_at (a timestamp without time zone, as PostgreSQL writes it in JSON: UTC, no
 * offset), the user's name and email.
 */
type MemberTuple = [number, number, number, string, string, string | null, string];

function memberFromTuple([id, teamId, userId, role, joinedAt, name, email]: MemberTuple) {
  return {
    id,
    teamId,
    userId,
    role: role as TeamRole,
    joinedAt: timestampFromDriver(joinedAt),
    user: { id: userId, name, email },
  } satisfies MemberWithUser;
}

/**
 * The team row and its members with their public user fields, in one statement: the members
 * come as one JSON array of tuples (oldest first), mapped here straight to MemberWithUser.
 * Drizzle's relational query did the same in one statement too, but mapped every member
 * field by field through its generic row mapper, which was a tenth of a team read's
 * allocations (bench/RESULTS.md item 18).
 */
function teamWithMembersQuery(db: DbClient, { teamId }: Placeheld<{ teamId: number }>) {
  return db
    .select({
      ...getTableColumns(teams),
      // Written out: Drizzle leaves columns unqualified in a single-table select.
      teamMembers: sql<
        MemberWithUser[]
      >`coalesce((select json_agg(json_build_array(m.id, m.team_id, m.user_id, m.role, m.joined_at, u.name, u.email) order by m.joined_at asc, m.id asc) from team_members m inner join users u on u.id = m.user_id where m.team_id = teams.id), '[]'::json)`.mapWith(
        (tuples: MemberTuple[]) => tuples.map(memberFromTuple),
      ),
    })
    .from(teams)
    .where(eq(teams.id, teamId));
}

@Injectable()
export class TeamsRepository {
  // A hot per-request read (GET /teams/:teamId): a prepared statement.
  private readonly teamWithMembers: PreparedQuery<{ teamId: number }, TeamWithMembers[]>;

  constructor(private readonly txHost: TransactionHost) {
    this.teamWithMembers = new PreparedQuery(
      txHost,
      'teams_find_with_members',
      teamWithMembersQuery,
    );
  }

  async findById(teamId: number): Promise<Team | undefined> {
    const [row] = await this.txHost.db.select().from(teams).where(eq(teams.id, teamId));
    return row;
  }

  /** The team row, locked until the transaction ends (for a read-compare-write). */
  async findByIdForUpdate(teamId: number): Promise<Team | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(teams)
      .where(eq(teams.id, teamId))
      .for('update');
    return row;
  }

  /** A user's membership of the team (access checks read theirs through AccessModule). */
  async findMembership(teamId: number, userId: number): Promise<Membership | undefined> {
    const [row] = await this.txHost.db
      .select(membershipColumns)
      .from(teamMembers)
      .where(and(eq(teamMembers.teamId, teamId), eq(teamMembers.userId, userId)));
    return row && asMembership(row);
  }

  /** A membership by its id, only within the given team. */
  async findMember(teamId: number, memberId: number): Promise<Membership | undefined> {
    const [row] = await this.txHost.db
      .select(membershipColumns)
      .from(teamMembers)
      .where(and(eq(teamMembers.teamId, teamId), eq(teamMembers.id, memberId)));
    return row && asMembership(row);
  }

  async findMemberWithUser(teamId: number, memberId: number): Promise<MemberWithUser | undefined> {
    const [row] = await this.txHost.db
      .select({
        member: membershipColumns,
        user: { id: users.id, name: users.name, email: users.email },
      })
      .from(teamMembers)
      .innerJoin(users, eq(users.id, teamMembers.userId))
      .where(and(eq(teamMembers.teamId, teamId), eq(teamMembers.id, memberId)));
    return row && { ...asMembership(row.member), user: row.user };
  }

  /**
   * Locks the team row until the transaction ends. Every change that can lower the number of
   * owners takes this lock first, so concurrent demotions/removals are serialized and each
   * re-reads the owner count after the previous one committed.
   */
  async lockTeam(teamId: number): Promise<boolean> {
    const rows = await this.txHost.db
      .select({ id: teams.id })
      .from(teams)
      .where(eq(teams.id, teamId))
      .for('update');
    return rows.length > 0;
  }

  async countOwners(teamId: number): Promise<number> {
    const [row] = await this.txHost.db
      .select({ n: count() })
      .from(teamMembers)
      .where(and(eq(teamMembers.teamId, teamId), eq(teamMembers.role, 'owner')));
    return row?.n ?? 0;
  }

  /** The user's teams, newest membership first, keyset-paginated by membership id. */
  async listForUser(userId: number, limit: number, beforeMemberId?: number): Promise<MyTeamRow[]> {
    const where: SQL[] = [eq(teamMembers.userId, userId)];
    if (beforeMemberId !== undefined) where.push(lt(teamMembers.id, beforeMemberId));
    const rows = await this.txHost.db
      .select({ team: teams, membership: membershipColumns })
      .from(teamMembers)
      .innerJoin(teams, eq(teams.id, teamMembers.teamId))
      .where(and(...where))
      .orderBy(desc(teamMembers.id))
      .limit(limit);
    return rows.map((r) => ({ team: r.team, membership: asMembership(r.membership) }));
  }

  async insertTeam(name: string): Promise<Team> {
    const [team] = await this.txHost.db.insert(teams).values({ name }).returning();
    if (!team) throw new Error('insert into teams returned no row');
    return team;
  }

  /** Adds a membership; undefined when the user already belongs to the team (unique index). */
  async insertMember(values: {
    teamId: number;
    userId: number;
    role: TeamRole;
  }): Promise<Membership | undefined> {
    const [row] = await this.txHost.db
      .insert(teamMembers)
      .values(values)
      .onConflictDoNothing({ target: [teamMembers.teamId, teamMembers.userId] })
      .returning(membershipColumns);
    return row && asMembership(row);
  }

  /** The team with its members and their public user fields, in one SQL statement. */
  async findWithMembers(teamId: number): Promise<TeamWithMembers | undefined> {
    // Prepared: Drizzle builds this SQL once instead of per call.
    const [team] = await this.teamWithMembers.execute({ teamId });
    return team;
  }

  async updateName(teamId: number, name: string, now: Date): Promise<boolean> {
    const rows = await this.txHost.db
      .update(teams)
      .set({ name, updatedAt: now })
      .where(eq(teams.id, teamId))
      .returning({ id: teams.id });
    return rows.length > 0;
  }

  async updateMemberRole(
    teamId: number,
    memberId: number,
    role: TeamRole,
  ): Promise<Membership | undefined> {
    const [row] = await this.txHost.db
      .update(teamMembers)
      .set({ role })
      .where(and(eq(teamMembers.teamId, teamId), eq(teamMembers.id, memberId)))
      .returning(membershipColumns);
    return row && asMembership(row);
  }

  async deleteMember(teamId: number, memberId: number): Promise<boolean> {
    const rows = await this.txHost.db
      .delete(teamMembers)
      .where(and(eq(teamMembers.teamId, teamId), eq(teamMembers.id, memberId)))
      .returning({ id: teamMembers.id });
    return rows.length > 0;
  }

  /** Whether an active (not deleted) user with this email belongs to the team. */
  async hasMemberWithEmail(teamId: number, email: string): Promise<boolean> {
    const rows = await this.txHost.db
      .select({ id: teamMembers.id })
      .from(teamMembers)
      .innerJoin(users, eq(users.id, teamMembers.userId))
      .where(
        and(
          eq(teamMembers.teamId, teamId),
          eq(sql`lower(${users.email})`, email.toLowerCase()),
          isNull(users.deletedAt),
        ),
      )
      .limit(1);
    return rows.length > 0;
  }

  /** The team a membership belongs to (the back office addresses memberships by id alone). */
  /** Ids of the teams the user belongs to, oldest membership first. */
  async teamIdsOfUser(userId: number): Promise<number[]> {
    const rows = await this.txHost.db
      .select({ teamId: teamMembers.teamId })
      .from(teamMembers)
      .where(eq(teamMembers.userId, userId))
      .orderBy(asc(teamMembers.joinedAt), asc(teamMembers.id));
    return rows.map((row) => row.teamId);
  }

  async teamIdOfMember(memberId: number): Promise<number | undefined> {
    const [row] = await this.txHost.db
      .select({ teamId: teamMembers.teamId })
      .from(teamMembers)
      .where(eq(teamMembers.id, memberId))
      .limit(1);
    return row?.teamId;
  }

  /**
   * Locks (FOR UPDATE, in id order) the teams the user belongs to, so a concurrent role change
   * or removal in those teams cannot slip between a last-owner check and the user's removal.
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

  /**
   * Teams where the user is an owner and no other owner exists, with whether anyone else is
   * a member, in one statement.
   */
  async soleOwnedTeams(userId: number): Promise<SoleOwnedTeam[]> {
    const otherOwner = alias(teamMembers, 'other_owner');
    const otherMember = alias(teamMembers, 'other_member');
    const rows = await this.txHost.db
      .select({
        team: teams,
        hasOtherMembers: sql<boolean>`exists (${this.txHost.db
          .select({ one: sql`1` })
          .from(otherMember)
          .where(
            and(eq(otherMember.teamId, teamMembers.teamId), ne(otherMember.userId, userId)),
          )})`,
      })
      .from(teamMembers)
      .innerJoin(teams, eq(teams.id, teamMembers.teamId))
      .where(
        and(
          eq(teamMembers.userId, userId),
          eq(teamMembers.role, 'owner'),
          sql`not exists (${this.txHost.db
            .select({ one: sql`1` })
            .from(otherOwner)
            .where(
              and(
                eq(otherOwner.teamId, teamMembers.teamId),
                eq(otherOwner.role, 'owner'),
                ne(otherOwner.userId, userId),
              ),
            )})`,
        ),
      )
      .orderBy(asc(teams.id));
    return rows;
  }

  /** Removes every membership of the user; the teams they left, in id order. */
  async deleteMembershipsOfUser(userId: number): Promise<number[]> {
    const rows = await this.txHost.db
      .delete(teamMembers)
      .where(eq(teamMembers.userId, userId))
      .returning({ teamId: teamMembers.teamId });
    return rows.map((r) => r.teamId).sort((a, b) => a - b);
  }

  /** The team whose Stripe customer this is, locked until the transaction ends. */
  async findByStripeCustomerForUpdate(customerId: string): Promise<Team | undefined> {
    const [team] = await this.txHost.db
      .select()
      .from(teams)
      .where(eq(teams.stripeCustomerId, customerId))
      .for('update');
    return team;
  }

  async findIdByStripeCustomer(customerId: string): Promise<number | undefined> {
    const [row] = await this.txHost.db
      .select({ id: teams.id })
      .from(teams)
      .where(eq(teams.stripeCustomerId, customerId));
    return row?.id;
  }

  /** Writes billing columns (set by the billing module from Stripe, never by the API). */
  async setPlanOverride(teamId: number, override: PlanLimits | null, now: Date): Promise<void> {
    await this.txHost.db
      .update(teams)
      .set({ planOverride: override, updatedAt: now })
      .where(eq(teams.id, teamId));
  }

  async setBilling(teamId: number, fields: BillingColumns, now: Date): Promise<void> {
    await this.txHost.db
      .update(teams)
      .set({ ...fields, updatedAt: now })
      .where(eq(teams.id, teamId));
  }
}
