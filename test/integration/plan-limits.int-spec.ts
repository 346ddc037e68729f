import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq } from 'drizzle-orm';
import { apiKeys, invitations, teamMembers, teams } from '../../src/database/schema.js';
import { ApiKeysService } from '../../src/modules/api-keys/api-keys.service.js';
import { InvitationsService } from '../../src/modules/invitations/invitations.service.js';
import { PlansService } from '../../src/modules/plans/plans.service.js';
import { TeamsService } from '../../src/modules/teams/teams.service.js';
import { TransactionHost } from '../../src/database/transaction-host.js';
import { createTestContext, seed, type TestContext } from '../support/seed.js';

/**
 * The plan's limits under concurrency, on the real database: the check locks the team row and
 * counts in the transaction of the write, so parallel additions never pass the limit.
 */
let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});

afterAll(async () => {
  await ctx?.close();
});

async function outcomes(calls: Promise<unknown>[]): Promise<Record<string, number>> {
  const settled = await Promise.allSettled(calls);
  const tally: Record<string, number> = {};
  for (const result of settled) {
    const key =
      result.status === 'fulfilled'
        ? 'created'
        : String((result.reason as { code?: unknown }).code ?? result.reason);
    tally[key] = (tally[key] ?? 0) + 1;
  }
  return tally;
}

const countRows = async (table: typeof invitations | typeof apiKeys, teamId: number) =>
  (await ctx.db.select({ id: table.id }).from(table).where(eq(table.teamId, teamId))).length;

describe('plan limits under concurrency', () => {
  it('twenty concurrent invitations at max_members=5 create exactly the room left; the rest are 402', async () => {
    const s = await seed(ctx.db, {
      users: { owner: {}, member: {} },
      teams: { t: {} },
      members: [
        { user: 'owner', team: 't', role: 'owner' },
        { user: 'member', team: 't', role: 'member' },
      ],
    });
    const teamId = s.teams.t.id;
    await ctx.db
      .update(teams)
      .set({ planOverride: { maxMembers: 5 } })
      .where(eq(teams.id, teamId));
    const service = ctx.get(InvitationsService);
    const tally = await outcomes(
      Array.from({ length: 20 }, (_, i) =>
        service.invite(s.users.owner.auth, teamId, {
          email: `room-${teamId}-${i}@example.test`,
          role: 'member',
        }),
      ),
    );
    // Two members: room for three pending invitations.
    expect(tally).toEqual({ created: 3, 'plan.limit_reached': 17 });
    expect(await countRows(invitations, teamId)).toBe(3);
  });

  it('concurrent joins through TeamsService.join stop at max_members', async () => {
    const s = await seed(ctx.db, {
      users: { owner: {}, a: {}, b: {}, c: {}, d: {}, e: {}, f: {} },
      teams: { t: {} },
      members: [{ user: 'owner', team: 't', role: 'owner' }],
    });
    const teamId = s.teams.t.id;
    await ctx.db
      .update(teams)
      .set({ planOverride: { maxMembers: 3 } })
      .where(eq(teams.id, teamId));
    const txHost = ctx.get(TransactionHost);
    const teamsService = ctx.get(TeamsService);
    const joiners = [s.users.a, s.users.b, s.users.c, s.users.d, s.users.e, s.users.f];
    const tally = await outcomes(
      joiners.map((user) => txHost.transaction(() => teamsService.join(teamId, user.id, 'member'))),
    );
    expect(tally).toEqual({ created: 2, 'plan.limit_reached': 4 });
    const members = await ctx.db
      .select({ id: teamMembers.id })
      .from(teamMembers)
      .where(eq(teamMembers.teamId, teamId));
    expect(members).toHaveLength(3);
    // A member already in the team joins again without counting against the limit.
    await expect(
      txHost.transaction(() => teamsService.join(teamId, s.users.owner.id, 'member')),
    ).resolves.toMatchObject({ role: 'owner' });
  });

  it('concurrent API keys at max_api_keys=2 create two; revoked keys free their room', async () => {
    const s = await seed(ctx.db, {
      users: { owner: {} },
      teams: { t: {} },
      members: [{ user: 'owner', team: 't', role: 'owner' }],
    });
    const teamId = s.teams.t.id;
    await ctx.db
      .update(teams)
      .set({ planOverride: { maxApiKeys: 2 } })
      .where(eq(teams.id, teamId));
    const keys = ctx.get(ApiKeysService);
    const create = (i: number) =>
      keys.create(s.users.owner.auth, teamId, { name: `k${i}`, scopes: ['team:read'] });
    expect(await outcomes(Array.from({ length: 8 }, (_, i) => create(i)))).toEqual({
      created: 2,
      'plan.limit_reached': 6,
    });
    expect(await countRows(apiKeys, teamId)).toBe(2);
    const [first] = await ctx.db.select().from(apiKeys).where(eq(apiKeys.teamId, teamId));
    await ctx.db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.teamId, teamId), eq(apiKeys.id, first!.id)));
    await expect(create(9)).resolves.toMatchObject({ name: 'k9' });
  });

  it('assertRoom refuses to run outside a transaction (its lock would end at once)', async () => {
    await expect(ctx.get(PlansService).assertRoom(1, 'members')).rejects.toThrow(
      /inside the transaction/,
    );
  });
});
