import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DrizzleQueryError, and, asc, eq, sql } from 'drizzle-orm';
import { activityLogs, sessions, teamMembers, teams, users } from '../../src/database/schema.js';
import { PreparedQuery, type Placeheld } from '../../src/database/prepared-query.js';
import type { DbClient } from '../../src/database/database.tokens.js';
import { TransactionHost } from '../../src/database/transaction-host.js';
import { AuditRepository } from '../../src/modules/audit/audit.repository.js';
import { SessionsRepository } from '../../src/modules/auth/sessions.repository.js';
import { UsersRepository } from '../../src/modules/users/users.repository.js';
import { ActivityType } from '../../src/database/schema.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { signUp } from '../support/auth.js';

function membersQuery(db: DbClient, { teamId }: Placeheld<{ teamId: number }>) {
  return db
    .select({
      id: teamMembers.id,
      role: teamMembers.role,
      joinedAt: teamMembers.joinedAt,
      name: teams.name,
    })
    .from(teamMembers)
    .innerJoin(teams, eq(teams.id, teamMembers.teamId))
    .where(eq(teamMembers.teamId, teamId))
    .orderBy(asc(teamMembers.id));
}

describe('PreparedQuery (hot reads as named prepared statements)', () => {
  let t: TestApp;
  let txHost: TransactionHost;

  beforeAll(async () => {
    t = await createTestApp();
    txHost = t.app.get(TransactionHost);
  });

  afterAll(async () => {
    await t.close();
  });

  const mapped = () =>
    new PreparedQuery(
      txHost,
      `test_members_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`,
      membersQuery,
    );

  it('returns what Drizzle maps, outside and inside a transaction, which it joins', async () => {
    const u = await signUp(t);
    const query = mapped();
    const drizzle = await membersQuery(t.db, { teamId: u.team.id });
    expect(drizzle).toHaveLength(1);
    // Twice outside (prepared once on the pool), then on a transaction's connection.
    expect(await query.execute({ teamId: u.team.id })).toEqual(drizzle);
    expect(await query.execute({ teamId: u.team.id })).toEqual(drizzle);
    const other = await signUp(t);
    const inside = await txHost.transaction(async () => {
      await txHost.db
        .insert(teamMembers)
        .values({ teamId: u.team.id, userId: other.user.id, role: 'member' });
      // Sees the transaction's own uncommitted row, twice (the named statement again).
      await query.execute({ teamId: u.team.id });
      return query.execute({ teamId: u.team.id });
    });
    expect(inside).toHaveLength(2);
    expect(inside[1]).toMatchObject({ role: 'member', name: drizzle[0]!.name });
    expect(inside[1]!.joinedAt).toBeInstanceOf(Date);
    expect(Math.abs(inside[1]!.joinedAt.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it("fails as Drizzle's own queries fail: a DrizzleQueryError caused by pg's error", async () => {
    const query = mapped();
    const error: unknown = await query
      .execute({ teamId: 'not a number' as unknown as number })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DrizzleQueryError);
    expect((error as DrizzleQueryError).cause).toMatchObject({ code: '22P02' });
    // The connection is fine afterwards.
    expect(await query.execute({ teamId: 2_000_000_000 })).toEqual([]);
  });

  it('reads timestamps as the UTC instants Drizzle reads', async () => {
    const u = await signUp(t);
    await t.db
      .update(teamMembers)
      .set({ joinedAt: new Date('2024-02-29T23:59:58.123Z') })
      .where(eq(teamMembers.teamId, u.team.id));
    const [row] = await mapped().execute({ teamId: u.team.id });
    expect(row!.joinedAt.toISOString()).toBe('2024-02-29T23:59:58.123Z');
  });

  it("the repositories' prepared hot reads match Drizzle's per-call queries", async () => {
    const u = await signUp(t);
    const now = new Date();
    await t.db.insert(activityLogs).values({
      teamId: u.team.id,
      userId: null,
      action: ActivityType.UPDATE_TEAM,
      ipAddress: '198.51.100.7',
    });

    const sessionsRepo = t.app.get(SessionsRepository);
    const [session] = await t.db
      .execute<{ id: string }>(sql`select id from sessions where user_id = ${u.user.id} limit 1`)
      .then((r) => r.rows);
    const principal = await sessionsRepo.findPrincipal(session!.id, u.user.id, now);
    const [fromDrizzle] = await t.db
      .select({
        id: users.id,
        email: users.email,
        name: users.name,
        role: users.role,
        emailVerifiedAt: users.emailVerifiedAt,
        joinedAt: teamMembers.joinedAt,
      })
      .from(users)
      .innerJoin(
        teamMembers,
        and(eq(teamMembers.userId, users.id), eq(teamMembers.teamId, u.team.id)),
      )
      .where(eq(users.id, u.user.id));
    expect(principal).toMatchObject({
      id: fromDrizzle!.id,
      email: fromDrizzle!.email,
      name: fromDrizzle!.name,
      role: fromDrizzle!.role,
      emailVerified: fromDrizzle!.emailVerifiedAt !== null,
      sessionId: session!.id,
    });
    const [sessionRow] = await t.db
      .select({ lastUsedAt: sessions.lastUsedAt })
      .from(sessions)
      .where(eq(sessions.id, session!.id));
    expect(principal!.lastUsedAt).toEqual(sessionRow!.lastUsedAt);

    const memberships = await t.app.get(UsersRepository).memberships(u.user.id);
    const [team] = await t.db
      .select({ name: teams.name })
      .from(teams)
      .where(eq(teams.id, u.team.id));
    expect(memberships).toEqual([
      { teamId: u.team.id, teamName: team!.name, role: 'owner', joinedAt: fromDrizzle!.joinedAt },
    ]);

    const feed = await t.app
      .get(AuditRepository)
      .listFeed({ teamId: u.team.id }, {}, 50, undefined);
    const drizzleFeed = await t.app
      .get(AuditRepository)
      .listFeed({ teamId: u.team.id }, { from: new Date(0) }, 50, undefined);
    // The filtered feed is built per call and mapped by Drizzle: the same rows.
    expect(feed).toEqual(drizzleFeed);
    expect(feed[0]).toMatchObject({
      action: ActivityType.UPDATE_TEAM,
      userId: null,
      userName: null,
      ipAddress: '198.51.100.7',
    });
  });
});
