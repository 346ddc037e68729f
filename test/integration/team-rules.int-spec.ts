import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { asc, eq } from 'drizzle-orm';
import { invitations, teamMembers, users } from '../../src/database/schema.js';
import { AccountService } from '../../src/modules/auth/account.service.js';
import { InvitationsService } from '../../src/modules/invitations/invitations.service.js';
import { TeamsService } from '../../src/modules/teams/teams.service.js';
import { createTestContext, seed, type SeedInvitation, type TestContext } from '../support/seed.js';

/**
 * Rule permutations of team roles and invitations, through the services on the real database
 * (no HTTP). The HTTP status/shape of each error stays covered by the e2e contract tests.
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

/** The error code a rejected call carries. */
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

/** One owner and one member of team t. */
function ownerAndMember() {
  return seed(ctx.db, {
    users: { owner: {}, member: {} },
    teams: { t: {} },
    members: [
      { user: 'owner', team: 't', role: 'owner' },
      { user: 'member', team: 't', role: 'member' },
    ],
  });
}

describe('last owner', () => {
  it('the only owner cannot demote themself; with a second owner they can', async () => {
    const s = await ownerAndMember();
    const team = s.teams.t.id;
    const self = s.members['owner@t'].id;
    expect(
      await codeOf(
        teamsService.updateMemberRole(s.users.owner.auth, team, self, { role: 'member' }),
      ),
    ).toBe('team.last_owner');
    await teamsService.updateMemberRole(s.users.owner.auth, team, s.members['member@t'].id, {
      role: 'owner',
    });
    await teamsService.updateMemberRole(s.users.owner.auth, team, self, { role: 'member' });
    expect(await roles(team)).toEqual([
      [s.users.owner.id, 'member'],
      [s.users.member.id, 'owner'],
    ]);
  });

  it('the only owner cannot be removed or leave; a member can leave', async () => {
    const s = await ownerAndMember();
    const team = s.teams.t.id;
    expect(
      await codeOf(teamsService.removeMember(s.users.owner.auth, team, s.members['owner@t'].id)),
    ).toBe('team.last_owner');
    await teamsService.removeMember(s.users.member.auth, team, s.members['member@t'].id);
    expect(await roles(team)).toEqual([[s.users.owner.id, 'owner']]);
  });

  it('the only owner of a team with other members cannot delete their account; once alone they can', async () => {
    const s = await ownerAndMember();
    expect(await codeOf(account.deleteAccount(s.users.owner.auth, s.users.owner.id))).toBe(
      'user.last_owner',
    );
    const [still] = await ctx.db.select().from(users).where(eq(users.id, s.users.owner.id));
    expect(still?.deletedAt).toBeNull();
    await teamsService.removeMember(s.users.owner.auth, s.teams.t.id, s.members['member@t'].id);
    await account.deleteAccount(s.users.owner.auth, s.users.owner.id);
    const [gone] = await ctx.db.select().from(users).where(eq(users.id, s.users.owner.id));
    expect(gone?.deletedAt).toBeInstanceOf(Date);
  });

  it('with a co-owner the owner can delete their account; the co-owner keeps the team', async () => {
    const s = await seed(ctx.db, {
      users: { owner: {}, coOwner: {}, member: {} },
      teams: { t: {} },
      members: [
        { user: 'owner', team: 't', role: 'owner' },
        { user: 'coOwner', team: 't', role: 'owner' },
        { user: 'member', team: 't', role: 'member' },
      ],
    });
    await account.deleteAccount(s.users.owner.auth, s.users.owner.id);
    expect(await roles(s.teams.t.id)).toEqual([
      [s.users.coOwner.id, 'owner'],
      [s.users.member.id, 'member'],
    ]);
  });
});

describe('role rules', () => {
  it('a member can neither change roles nor remove others; an owner can', async () => {
    const s = await seed(ctx.db, {
      users: { owner: {}, a: {}, b: {} },
      teams: { t: {} },
      members: [
        { user: 'owner', team: 't', role: 'owner' },
        { user: 'a', team: 't', role: 'member' },
        { user: 'b', team: 't', role: 'member' },
      ],
    });
    const team = s.teams.t.id;
    const b = s.members['b@t'].id;
    expect(
      await codeOf(teamsService.updateMemberRole(s.users.a.auth, team, b, { role: 'owner' })),
    ).toBe('team.forbidden');
    expect(
      await codeOf(
        teamsService.updateMemberRole(s.users.a.auth, team, s.members['a@t'].id, {
          role: 'owner',
        }),
      ),
    ).toBe('team.forbidden');
    expect(await codeOf(teamsService.removeMember(s.users.a.auth, team, b))).toBe('team.forbidden');
    expect(await roles(team)).toEqual([
      [s.users.owner.id, 'owner'],
      [s.users.a.id, 'member'],
      [s.users.b.id, 'member'],
    ]);
    await teamsService.updateMemberRole(s.users.owner.auth, team, b, { role: 'owner' });
    await teamsService.removeMember(s.users.owner.auth, team, s.members['a@t'].id);
    expect(await roles(team)).toEqual([
      [s.users.owner.id, 'owner'],
      [s.users.b.id, 'owner'],
    ]);
  });

  it('a member of another team is not found there', async () => {
    const s = await seed(ctx.db, {
      users: { owner: {}, outsider: {} },
      teams: { t: {}, other: {} },
      members: [
        { user: 'owner', team: 't', role: 'owner' },
        { user: 'outsider', team: 'other', role: 'owner' },
      ],
    });
    expect(
      await codeOf(
        teamsService.removeMember(s.users.outsider.auth, s.teams.t.id, s.members['owner@t'].id),
      ),
    ).toBe('team.not_found');
    expect(
      await codeOf(
        teamsService.removeMember(s.users.owner.auth, s.teams.t.id, s.members['outsider@other'].id),
      ),
    ).toBe('team.member_not_found');
  });
});

describe('invitation states', () => {
  const eightDaysAgo = () => new Date(Date.now() - 8 * 24 * 60 * 60 * 1000);

  /** An owner of team t, an invitee, and invitation `i` for the invitee. */
  function invitationFor(invitation: Partial<SeedInvitation<'owner' | 'invitee', 't'>>) {
    return seed(ctx.db, {
      users: { owner: {}, invitee: {} },
      teams: { t: {} },
      members: [{ user: 'owner', team: 't', role: 'owner' }],
      invitations: { i: { team: 't', email: 'invitee', invitedBy: 'owner', ...invitation } },
    });
  }

  it.each([
    ['accepted', 'invitation.already_accepted'],
    ['declined', 'invitation.declined'],
    ['revoked', 'invitation.revoked'],
    ['expired', 'invitation.expired'],
  ] as const)('a %s invitation can be neither accepted nor declined (%s)', async (status, code) => {
    const s = await invitationFor({ status });
    const id = s.invitations.i.id;
    expect(await codeOf(invitationsService.accept(s.users.invitee.auth, id))).toBe(code);
    expect(await codeOf(invitationsService.decline(s.users.invitee.auth, id))).toBe(code);
    expect(await roles(s.teams.t.id)).toEqual([[s.users.owner.id, 'owner']]);
    const [row] = await ctx.db.select().from(invitations).where(eq(invitations.id, id));
    expect(row?.status).toBe(status);
  });

  it('a pending invitation older than 7 days has expired', async () => {
    const s = await invitationFor({ invitedAt: eightDaysAgo() });
    const id = s.invitations.i.id;
    expect(await codeOf(invitationsService.accept(s.users.invitee.auth, id))).toBe(
      'invitation.expired',
    );
    expect(await codeOf(invitationsService.decline(s.users.invitee.auth, id))).toBe(
      'invitation.expired',
    );
    expect(await roles(s.teams.t.id)).toEqual([[s.users.owner.id, 'owner']]);
  });

  it('a pending invitation is accepted once (joins with the invited role), then answers accepted', async () => {
    const s = await invitationFor({ role: 'owner' });
    const id = s.invitations.i.id;
    await invitationsService.accept(s.users.invitee.auth, id);
    expect(await roles(s.teams.t.id)).toEqual([
      [s.users.owner.id, 'owner'],
      [s.users.invitee.id, 'owner'],
    ]);
    expect(await codeOf(invitationsService.accept(s.users.invitee.auth, id))).toBe(
      'invitation.already_accepted',
    );
  });

  it("someone else's invitation is not found; an unverified invitee is refused", async () => {
    const s = await seed(ctx.db, {
      users: { owner: {}, invitee: {}, other: {}, unverified: { verified: false } },
      teams: { t: {} },
      members: [{ user: 'owner', team: 't', role: 'owner' }],
      invitations: {
        i: { team: 't', email: 'invitee', invitedBy: 'owner' },
        u: { team: 't', email: 'unverified', invitedBy: 'owner' },
      },
    });
    expect(await codeOf(invitationsService.accept(s.users.other.auth, s.invitations.i.id))).toBe(
      'invitation.not_found',
    );
    expect(
      await codeOf(invitationsService.accept(s.users.unverified.auth, s.invitations.u.id)),
    ).toBe('email.unverified');
    await invitationsService.decline(s.users.invitee.auth, s.invitations.i.id);
    const [row] = await ctx.db
      .select()
      .from(invitations)
      .where(eq(invitations.id, s.invitations.i.id));
    expect(row?.status).toBe('declined');
  });
});
