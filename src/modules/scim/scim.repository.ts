import { Injectable } from '@nestjs/common';
import {
  and,
  asc,
  count,
  desc,
  eq,
  inArray,
  isNull,
  lt,
  lte,
  or,
  sql,
  type SQL,
} from 'drizzle-orm';
import {
  scimDirectories,
  scimGroupMembers,
  scimGroups,
  scimTokens,
  scimUsers,
  users,
  type ScimGroup,
  type ScimToken,
  type ScimUser,
} from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import type { GroupCondition, UserCondition } from './scim-query.js';

/** A directory user with the account address it stands for (the resource's `emails`). */
export type ScimUserRow = ScimUser & { email: string };

export interface GroupMemberRow {
  groupId: string;
  scimUserId: string;
  userName: string;
  displayName: string | null;
}

export type ScimUserValues = Pick<
  ScimUser,
  'userName' | 'externalId' | 'givenName' | 'familyName' | 'displayName' | 'active'
>;

const userColumns = {
  id: scimUsers.id,
  teamId: scimUsers.teamId,
  userId: scimUsers.userId,
  userName: scimUsers.userName,
  externalId: scimUsers.externalId,
  givenName: scimUsers.givenName,
  familyName: scimUsers.familyName,
  displayName: scimUsers.displayName,
  active: scimUsers.active,
  createdAccount: scimUsers.createdAccount,
  version: scimUsers.version,
  createdAt: scimUsers.createdAt,
  updatedAt: scimUsers.updatedAt,
  email: users.email,
};

function userCondition(condition: UserCondition): SQL {
  switch (condition.attr) {
    case 'userName':
      // userName is case-insensitive (RFC 7643 §4.1.1).
      return sql`lower(${scimUsers.userName}) = lower(${condition.value})`;
    case 'email':
      return or(
        sql`lower(${users.email}) = lower(${condition.value})`,
        sql`lower(${scimUsers.userName}) = lower(${condition.value})`,
      )!;
    case 'externalId':
      return eq(scimUsers.externalId, condition.value);
    case 'id':
      return eq(scimUsers.id, condition.value);
    case 'active':
      return eq(scimUsers.active, condition.value);
  }
}

function groupCondition(condition: GroupCondition): SQL {
  switch (condition.attr) {
    case 'displayName':
      return sql`lower(${scimGroups.displayName}) = lower(${condition.value})`;
    case 'externalId':
      return eq(scimGroups.externalId, condition.value);
    case 'id':
      return eq(scimGroups.id, condition.value);
    case 'member':
      return sql`exists (select 1 from ${scimGroupMembers} where ${scimGroupMembers.groupId} = ${scimGroups.id} and ${scimGroupMembers.scimUserId} = ${condition.value})`;
  }
}

/**
 * Queries of the scim module's tables (scim_tokens, scim_directories, scim_users, scim_groups,
 * scim_group_members). Every query of a directory resource filters by team id and resource id.
 * Cross-owner read: a directory user's row is read joined with `users.email` (the account
 * address its resource shows and `emails.value` filters on), one round trip, never a write.
 */
@Injectable()
export class ScimRepository {
  constructor(private readonly txHost: TransactionHost) {}

  // Tokens.

  async insertToken(values: {
    teamId: number;
    name: string;
    prefix: string;
    hash: string;
    createdBy: number | null;
    createdAt: Date;
  }): Promise<ScimToken> {
    const [row] = await this.txHost.db.insert(scimTokens).values(values).returning();
    if (!row) throw new Error('scim_tokens insert returned no row');
    return row;
  }

  listActiveTokens(teamId: number, limit: number, beforeId?: number): Promise<ScimToken[]> {
    const conditions: SQL[] = [eq(scimTokens.teamId, teamId), isNull(scimTokens.revokedAt)];
    if (beforeId !== undefined) conditions.push(lt(scimTokens.id, beforeId));
    return this.txHost.db
      .select()
      .from(scimTokens)
      .where(and(...conditions))
      .orderBy(desc(scimTokens.id))
      .limit(limit);
  }

  async findTokenInTeam(teamId: number, id: number): Promise<ScimToken | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(scimTokens)
      .where(and(eq(scimTokens.teamId, teamId), eq(scimTokens.id, id)));
    return row;
  }

  async findTokenByPrefix(prefix: string): Promise<ScimToken | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(scimTokens)
      .where(eq(scimTokens.prefix, prefix));
    return row;
  }

  async revokeToken(teamId: number, id: number, now: Date): Promise<boolean> {
    const rows = await this.txHost.db
      .update(scimTokens)
      .set({ revokedAt: now })
      .where(
        and(eq(scimTokens.teamId, teamId), eq(scimTokens.id, id), isNull(scimTokens.revokedAt)),
      )
      .returning({ id: scimTokens.id });
    return rows.length > 0;
  }

  /** Records a use when the stored one is older than `staleBefore` (one write a minute at most). */
  async touchToken(id: number, now: Date, staleBefore: Date): Promise<void> {
    await this.txHost.db
      .update(scimTokens)
      .set({ lastUsedAt: now })
      .where(
        and(
          eq(scimTokens.id, id),
          or(isNull(scimTokens.lastUsedAt), lte(scimTokens.lastUsedAt, staleBefore)),
        ),
      );
  }

  // Directory settings.

  async ownerGroup(teamId: number): Promise<string | undefined> {
    const [row] = await this.txHost.db
      .select({ ownerGroup: scimDirectories.ownerGroup })
      .from(scimDirectories)
      .where(eq(scimDirectories.teamId, teamId));
    return row?.ownerGroup;
  }

  async setOwnerGroup(teamId: number, ownerGroup: string, now: Date): Promise<void> {
    await this.txHost.db
      .insert(scimDirectories)
      .values({ teamId, ownerGroup, updatedAt: now })
      .onConflictDoUpdate({ target: scimDirectories.teamId, set: { ownerGroup, updatedAt: now } });
  }

  // Users.

  async findUser(teamId: number, id: string): Promise<ScimUserRow | undefined> {
    const [row] = await this.txHost.db
      .select(userColumns)
      .from(scimUsers)
      .innerJoin(users, eq(users.id, scimUsers.userId))
      .where(and(eq(scimUsers.teamId, teamId), eq(scimUsers.id, id)));
    return row;
  }

  async findUserOfAccount(teamId: number, userId: number): Promise<ScimUser | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(scimUsers)
      .where(and(eq(scimUsers.teamId, teamId), eq(scimUsers.userId, userId)));
    return row;
  }

  async insertUser(
    values: ScimUserValues & {
      teamId: number;
      userId: number;
      createdAccount: boolean;
      createdAt: Date;
    },
  ): Promise<ScimUser> {
    const [row] = await this.txHost.db
      .insert(scimUsers)
      .values({ ...values, updatedAt: values.createdAt })
      .returning();
    if (!row) throw new Error('scim_users insert returned no row');
    return row;
  }

  async updateUser(teamId: number, id: string, values: ScimUserValues, now: Date): Promise<void> {
    await this.txHost.db
      .update(scimUsers)
      .set({ ...values, updatedAt: now, version: sql`${scimUsers.version} + 1` })
      .where(and(eq(scimUsers.teamId, teamId), eq(scimUsers.id, id)));
  }

  async deleteUser(teamId: number, id: string): Promise<void> {
    await this.txHost.db
      .delete(scimUsers)
      .where(and(eq(scimUsers.teamId, teamId), eq(scimUsers.id, id)));
  }

  async listUsers(
    teamId: number,
    conditions: UserCondition[],
    offset: number,
    limit: number,
  ): Promise<{ total: number; rows: ScimUserRow[] }> {
    const where = and(eq(scimUsers.teamId, teamId), ...conditions.map(userCondition));
    const [counted] = await this.txHost.db
      .select({ total: count() })
      .from(scimUsers)
      .innerJoin(users, eq(users.id, scimUsers.userId))
      .where(where);
    const rows =
      limit === 0
        ? []
        : await this.txHost.db
            .select(userColumns)
            .from(scimUsers)
            .innerJoin(users, eq(users.id, scimUsers.userId))
            .where(where)
            .orderBy(asc(scimUsers.createdAt), asc(scimUsers.id))
            .offset(offset)
            .limit(limit);
    return { total: counted?.total ?? 0, rows };
  }

  /** The ids among `ids` that are users of the team's directory. */
  async existingUserIds(teamId: number, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.txHost.db
      .select({ id: scimUsers.id })
      .from(scimUsers)
      .where(and(eq(scimUsers.teamId, teamId), inArray(scimUsers.id, ids)));
    return new Set(rows.map((r) => r.id));
  }

  /** The account ids and active flags of directory users (role changes need both). */
  async accountsOf(
    teamId: number,
    ids: string[],
  ): Promise<{ id: string; userId: number; active: boolean }[]> {
    if (ids.length === 0) return [];
    return this.txHost.db
      .select({ id: scimUsers.id, userId: scimUsers.userId, active: scimUsers.active })
      .from(scimUsers)
      .where(and(eq(scimUsers.teamId, teamId), inArray(scimUsers.id, ids)));
  }

  // Groups.

  async findGroup(teamId: number, id: string): Promise<ScimGroup | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(scimGroups)
      .where(and(eq(scimGroups.teamId, teamId), eq(scimGroups.id, id)));
    return row;
  }

  async findGroupByName(teamId: number, displayName: string): Promise<ScimGroup | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(scimGroups)
      .where(
        and(
          eq(scimGroups.teamId, teamId),
          sql`lower(${scimGroups.displayName}) = lower(${displayName})`,
        ),
      );
    return row;
  }

  async insertGroup(values: {
    teamId: number;
    displayName: string;
    externalId: string | null;
    createdAt: Date;
  }): Promise<ScimGroup> {
    const [row] = await this.txHost.db
      .insert(scimGroups)
      .values({ ...values, updatedAt: values.createdAt })
      .returning();
    if (!row) throw new Error('scim_groups insert returned no row');
    return row;
  }

  async updateGroup(
    teamId: number,
    id: string,
    values: { displayName: string; externalId: string | null },
    now: Date,
  ): Promise<void> {
    await this.txHost.db
      .update(scimGroups)
      .set({ ...values, updatedAt: now, version: sql`${scimGroups.version} + 1` })
      .where(and(eq(scimGroups.teamId, teamId), eq(scimGroups.id, id)));
  }

  async deleteGroup(teamId: number, id: string): Promise<void> {
    await this.txHost.db
      .delete(scimGroups)
      .where(and(eq(scimGroups.teamId, teamId), eq(scimGroups.id, id)));
  }

  async listGroups(
    teamId: number,
    conditions: GroupCondition[],
    offset: number,
    limit: number,
  ): Promise<{ total: number; rows: ScimGroup[] }> {
    const where = and(eq(scimGroups.teamId, teamId), ...conditions.map(groupCondition));
    const [counted] = await this.txHost.db.select({ total: count() }).from(scimGroups).where(where);
    const rows =
      limit === 0
        ? []
        : await this.txHost.db
            .select()
            .from(scimGroups)
            .where(where)
            .orderBy(asc(scimGroups.createdAt), asc(scimGroups.id))
            .offset(offset)
            .limit(limit);
    return { total: counted?.total ?? 0, rows };
  }

  async groupMembers(groupIds: string[]): Promise<GroupMemberRow[]> {
    if (groupIds.length === 0) return [];
    return this.txHost.db
      .select({
        groupId: scimGroupMembers.groupId,
        scimUserId: scimGroupMembers.scimUserId,
        userName: scimUsers.userName,
        displayName: scimUsers.displayName,
      })
      .from(scimGroupMembers)
      .innerJoin(scimUsers, eq(scimUsers.id, scimGroupMembers.scimUserId))
      .where(inArray(scimGroupMembers.groupId, groupIds))
      .orderBy(asc(scimUsers.createdAt), asc(scimUsers.id));
  }

  async setGroupMembers(groupId: string, scimUserIds: string[]): Promise<void> {
    await this.txHost.db.delete(scimGroupMembers).where(eq(scimGroupMembers.groupId, groupId));
    if (scimUserIds.length === 0) return;
    await this.txHost.db
      .insert(scimGroupMembers)
      .values(scimUserIds.map((scimUserId) => ({ groupId, scimUserId })));
  }

  /** The groups of several directory users at once (a page of User resources). */
  groupsOfUsers(
    scimUserIds: string[],
  ): Promise<{ scimUserId: string; id: string; displayName: string }[]> {
    if (scimUserIds.length === 0) return Promise.resolve([]);
    return this.txHost.db
      .select({
        scimUserId: scimGroupMembers.scimUserId,
        id: scimGroups.id,
        displayName: scimGroups.displayName,
      })
      .from(scimGroupMembers)
      .innerJoin(scimGroups, eq(scimGroups.id, scimGroupMembers.groupId))
      .where(inArray(scimGroupMembers.scimUserId, scimUserIds))
      .orderBy(asc(scimGroups.displayName));
  }

  /** The groups a directory user belongs to (the User resource's read-only `groups`). */
  groupsOfUser(scimUserId: string): Promise<{ id: string; displayName: string }[]> {
    return this.txHost.db
      .select({ id: scimGroups.id, displayName: scimGroups.displayName })
      .from(scimGroupMembers)
      .innerJoin(scimGroups, eq(scimGroups.id, scimGroupMembers.groupId))
      .where(eq(scimGroupMembers.scimUserId, scimUserId))
      .orderBy(asc(scimGroups.displayName));
  }
}
