import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { asc, eq } from 'drizzle-orm';
import type { AdminActor, ApiKeyActor } from '../../src/common/auth/actor.js';
import {
  ActivityType,
  activityLogs,
  invitations,
  teamMembers,
  teams,
  users,
} from '../../src/database/schema.js';
import { AccountService } from '../../src/modules/auth/account.service.js';
import { InvitationsService } from '../../src/modules/invitations/invitations.service.js';
import { TeamsService } from '../../src/modules/teams/teams.service.js';
import { createTestContext, seed, type TestContext } from '../support/seed.js';

/**
 * The services with each kind of Actor, on the real database and without any route guard:
 * the rules (last owner, account deletion) hold for back-office admins too, the access layer
 * decides for admins, support staff and team API keys, and the activity log records who acted
 * (ADMIN_* for an admin, the key's creator for a key).
 */
let ctx: TestContext;
let teamsService: TeamsService;
let invitationsService: InvitationsService;
let account: AccountService;

beforeAll(async () => {
  ctx = await createTestContext();
  teamsService = ctx.get(TeamsService);
  invitationsService = ctx.get(InvitationsService);
  account = ctx.get(AccountService);
});

afterAll(async () => {
  await ctx?.close();
});

async function codeOf(call: Promise<unknown>): Promise<string> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error === undefined) return 'resolved';
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') throw error instanceof Error ? error : new Error(String(code));
  return code;
}

async function roles(teamId: number): Promise<[number, string][]> {
  const rows = await ctx.db
    .select({ userId: teamMembers.userId, role: teamMembers.role })
    .from(teamMembers)
    .where(eq(teamMembers.teamId, teamId))
    .orderBy(asc(teamMembers.id));
  return rows.map((r) => [r.userId, r.role]);
}

async function log(teamId: number) {
  return ctx.db
    .select({
      action: activityLogs.action,
      userId: activityLogs.userId,
      ipAddress: activityLogs.ipAddress,
    })
    .from(activityLogs)
    .where(eq(activityLogs.teamId, teamId))
    .orderBy(asc(activityLogs.id));
}

/** A team with one owner and one member, plus a back-office admin who belongs to no team. */
async function world() {
  const s = await seed(ctx.db, {
    users: { staff: { role: 'admin' }, owner: {}, member: {} },
    teams: { t: {} },
    members: [
      { user: 'owner', team: 't', role: 'owner' },
      { user: 'member', team: 't', role: 'member' },
    ],
  });
  const admin: AdminActor = {
    kind: 'admin',
    id: s.users.staff.id,
    email: s.users.staff.email,
    role: 'admin',
    ip: '198.51.100.9',
  };
  return { s, admin, support: { ...admin, role: 'support' } satisfies AdminActor };
}

describe('a back-office admin (AdminActor) through the API services', () => {
  it('cannot demote or remove the last owner either (team.last_owner), and nothing changes', async () => {
    const { s, admin } = await world();
    const team = s.teams.t.id;
    const owner = s.members['owner@t'].id;
    expect(
      await codeOf(teamsService.updateMemberRole(admin, team, owner, { role: 'member' })),
    ).toBe('team.last_owner');
    expect(await codeOf(teamsService.removeMember(admin, team, owner))).toBe('team.last_owner');
    expect(await roles(team)).toEqual([
      [s.users.owner.id, 'owner'],
      [s.users.member.id, 'member'],
    ]);
    expect(await log(team)).toEqual([]);
  });

  it('acts without a membership; each change is logged as its ADMIN_ variant by the admin', async () => {
    const { s, admin } = await world();
    const team = s.teams.t.id;
    const member = s.members['member@t'].id;
    await teamsService.update(admin, team, { name: 'Renamed by staff' });
    await teamsService.updateMemberRole(admin, team, member, { role: 'owner' });
    // The promoted member is a second owner: now the first one may be demoted.
    await teamsService.updateMemberRole(admin, team, s.members['owner@t'].id, { role: 'member' });
    await teamsService.removeMember(admin, team, s.members['owner@t'].id);
    const added = await teamsService.addMember(admin, team, {
      userId: s.users.owner.id,
      role: 'member',
    });
    expect(added).toMatchObject({ teamId: team, userId: s.users.owner.id, role: 'member' });
    expect(
      await teamsService.addMember(admin, team, { userId: s.users.owner.id, role: 'owner' }),
    ).toBeUndefined();

    const [row] = await ctx.db.select().from(teams).where(eq(teams.id, team));
    expect(row!.name).toBe('Renamed by staff');
    const by = { userId: admin.id, ipAddress: admin.ip };
    expect(await log(team)).toEqual([
      { action: ActivityType.ADMIN_UPDATE_TEAM, ...by },
      { action: ActivityType.ADMIN_UPDATE_TEAM_MEMBER, ...by },
      { action: ActivityType.ADMIN_UPDATE_TEAM_MEMBER, ...by },
      { action: ActivityType.ADMIN_REMOVE_TEAM_MEMBER, ...by },
      { action: ActivityType.ADMIN_ADD_TEAM_MEMBER, ...by },
    ]);
  });

  it('revokes an invitation through the owners’ service: ADMIN_REVOKE_INVITATION, once', async () => {
    const { admin } = await world();
    const seeded = await seed(ctx.db, {
      users: { owner: {} },
      teams: { t: {} },
      members: [{ user: 'owner', team: 't', role: 'owner' }],
      invitations: { i: { team: 't', email: 'invitee@example.test', invitedBy: 'owner' } },
    });
    const team = seeded.teams.t.id;
    await invitationsService.revokeAsOwner(admin, team, seeded.invitations.i.id);
    await invitationsService.revokeAsOwner(admin, team, seeded.invitations.i.id);
    const [inv] = await ctx.db
      .select()
      .from(invitations)
      .where(eq(invitations.id, seeded.invitations.i.id));
    expect(inv!.status).toBe('revoked');
    expect(await log(team)).toEqual([
      { action: ActivityType.ADMIN_REVOKE_INVITATION, userId: admin.id, ipAddress: admin.ip },
    ]);
  });

  it('deletes an account under the API’s rules: last owner refused, then DELETE_ACCOUNT + ADMIN_DELETE_USER', async () => {
    const { s, admin } = await world();
    const team = s.teams.t.id;
    expect(await codeOf(account.deleteAccount(admin, s.users.owner.id))).toBe('user.last_owner');
    await account.deleteAccount(admin, s.users.member.id);
    const [gone] = await ctx.db.select().from(users).where(eq(users.id, s.users.member.id));
    expect(gone!.deletedAt).toBeInstanceOf(Date);
    expect(await roles(team)).toEqual([[s.users.owner.id, 'owner']]);
    expect(await log(team)).toEqual([
      { action: ActivityType.DELETE_ACCOUNT, userId: s.users.member.id, ipAddress: admin.ip },
      { action: ActivityType.ADMIN_DELETE_USER, userId: admin.id, ipAddress: admin.ip },
    ]);
  });

  it('support staff may read a team but not change it (team.forbidden)', async () => {
    const { s, support } = await world();
    const team = s.teams.t.id;
    expect((await teamsService.get(support, team)).teamMembers).toHaveLength(2);
    expect(await codeOf(teamsService.update(support, team, { name: 'Nope' }))).toBe(
      'team.forbidden',
    );
    expect(await codeOf(teamsService.removeMember(support, team, s.members['member@t'].id))).toBe(
      'team.forbidden',
    );
    expect(await roles(team)).toHaveLength(2);
  });
});

describe('the access layer in the services (no guard in front)', () => {
  it('a user who is not a member gets team.not_found from a read and a write', async () => {
    const { s } = await world();
    const outsider = await seed(ctx.db, { users: { x: {} } });
    const x = outsider.users.x.auth;
    expect(await codeOf(teamsService.get(x, s.teams.t.id))).toBe('team.not_found');
    expect(await codeOf(teamsService.update(x, s.teams.t.id, { name: 'Mine' }))).toBe(
      'team.not_found',
    );
  });

  it('a team API key: own team within its scopes only; creator named in the log', async () => {
    const { s } = await world();
    const other = await seed(ctx.db, { teams: { o: {} } });
    const team = s.teams.t.id;
    const key: ApiKeyActor = {
      kind: 'apiKey',
      keyId: 1,
      teamId: team,
      scopes: ['team:read', 'members:write'],
      createdBy: s.users.owner.id,
      ip: '203.0.113.5',
    };
    expect((await teamsService.get(key, team)).id).toBe(team);
    expect(await codeOf(teamsService.get(key, other.teams.o.id))).toBe('team.not_found');
    // Renaming names no key scope: keys are refused there.
    expect(await codeOf(teamsService.update(key, team, { name: 'By key' }))).toBe(
      'auth.unauthorized',
    );
    // Its own team, a scope it lacks: 403 api_key.scope_missing.
    expect(await codeOf(invitationsService.listForTeam(key, team, { limit: 10 }))).toBe(
      'api_key.scope_missing',
    );
    await teamsService.removeMember(key, team, s.members['member@t'].id);
    expect(await roles(team)).toEqual([[s.users.owner.id, 'owner']]);
    expect(
      await ctx.db
        .select({ action: activityLogs.action, userId: activityLogs.userId })
        .from(activityLogs)
        .where(eq(activityLogs.teamId, team)),
    ).toEqual([{ action: ActivityType.REMOVE_TEAM_MEMBER, userId: s.users.owner.id }]);
  });

  it('a team API key never creates or grants owner (api_key.role_forbidden), with every scope; nothing is written', async () => {
    const { s, admin } = await world();
    const team = s.teams.t.id;
    const member = s.members['member@t'].id;
    const key: ApiKeyActor = {
      kind: 'apiKey',
      keyId: 1,
      teamId: team,
      scopes: ['team:read', 'members:write', 'invitations:write', 'activity:read'],
      createdBy: s.users.owner.id,
      ip: '203.0.113.5',
    };
    const email = 'would-be-owner@example.test';
    expect(await codeOf(invitationsService.invite(key, team, { email, role: 'owner' }))).toBe(
      'api_key.role_forbidden',
    );
    expect(await codeOf(teamsService.updateMemberRole(key, team, member, { role: 'owner' }))).toBe(
      'api_key.role_forbidden',
    );
    expect(await ctx.db.select().from(invitations).where(eq(invitations.teamId, team))).toEqual([]);
    expect(await roles(team)).toEqual([
      [s.users.owner.id, 'owner'],
      [s.users.member.id, 'member'],
    ]);
    expect(await log(team)).toEqual([]);

    // `member` stays open to the key; `owner` to the team's owner and to an admin.
    await invitationsService.invite(key, team, { email, role: 'member' });
    await invitationsService.invite(s.users.owner.auth, team, {
      email: 'co-owner@example.test',
      role: 'owner',
    });
    await teamsService.updateMemberRole(admin, team, member, { role: 'owner' });
    expect(
      (
        await ctx.db
          .select({ email: invitations.email, role: invitations.role })
          .from(invitations)
          .where(eq(invitations.teamId, team))
          .orderBy(asc(invitations.id))
      ).map((i) => [i.email, i.role]),
    ).toEqual([
      [email, 'member'],
      ['co-owner@example.test', 'owner'],
    ]);
    expect(await roles(team)).toEqual([
      [s.users.owner.id, 'owner'],
      [s.users.member.id, 'owner'],
    ]);
  });
});
