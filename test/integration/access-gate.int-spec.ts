import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import type { Actor, AdminActor, UserActor } from '../../src/common/auth/actor.js';
import {
  activityLogs,
  apiKeys,
  scimTokens,
  invitations,
  teamMembers,
  teams,
  webhookDeliveries,
  webhookEndpoints,
  webhookEvents,
} from '../../src/database/schema.js';
import { ApiKeysService } from '../../src/modules/api-keys/api-keys.service.js';
import { BillingService } from '../../src/modules/billing/billing.service.js';
import { InvitationsService } from '../../src/modules/invitations/invitations.service.js';
import { ScimTokensService } from '../../src/modules/scim/scim-tokens.service.js';
import { TeamsService } from '../../src/modules/teams/teams.service.js';
import { WebhooksService } from '../../src/modules/webhooks/webhooks.service.js';
import { createTestContext, seed, type TestContext } from '../support/seed.js';

/**
 * Every team-scoped service method asks the access layer first, with the actor it is given:
 * called below HTTP (no route guard in front) by someone outside the team, by a member without
 * the owner role, and by read-only support staff, each is refused with the gate's code (or
 * lets a read through) and writes nothing.
 */
let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});

afterAll(async () => {
  await ctx?.close();
});

/** The outcome of a call: 'ok', or the code of the coded error it threw. */
async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'ok';
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string') throw error;
    return code;
  }
}

const NF = 'team.not_found';
const FB = 'team.forbidden';

describe('the access gate in every team-scoped service', () => {
  it('refuses an outsider, a member below the role and support staff writing; lets reads through', async () => {
    const s = await seed(ctx.db, {
      users: { staff: { role: 'support' }, owner: {}, member: {}, other: {}, outsider: {} },
      teams: { t: {} },
      members: [
        { user: 'owner', team: 't', role: 'owner' },
        { user: 'member', team: 't', role: 'member' },
        { user: 'other', team: 't', role: 'member' },
      ],
      invitations: { i: { team: 't', email: 'invitee@example.test', invitedBy: 'owner' } },
    });
    const team = s.teams.t.id;
    const [endpoint] = await ctx.db
      .insert(webhookEndpoints)
      .values({
        teamId: team,
        url: 'https://example.test/hook',
        events: ['team.updated'],
        secret: 'x',
      })
      .returning();
    const [event] = await ctx.db
      .insert(webhookEvents)
      .values({ id: `evt_gate_${team}`, teamId: team, type: 'team.updated', payload: {} })
      .returning();
    const [delivery] = await ctx.db
      .insert(webhookDeliveries)
      .values({ endpointId: endpoint!.id, eventId: event!.id, nextAttemptAt: new Date() })
      .returning();
    const [key] = await ctx.db
      .insert(apiKeys)
      .values({
        teamId: team,
        name: 'k',
        prefix: `gate${team}`,
        hash: 'x'.repeat(64),
        scopes: ['team:read'],
        createdBy: s.users.owner.id,
      })
      .returning();
    const [scimToken] = await ctx.db
      .insert(scimTokens)
      .values({ teamId: team, name: 's', prefix: `scimgate${team}`, hash: 'y'.repeat(64) })
      .returning();

    const support: AdminActor = {
      kind: 'admin',
      id: s.users.staff.id,
      email: s.users.staff.email,
      role: 'support',
      ip: null,
    };
    const users: Record<'outsider' | 'member', UserActor> = {
      outsider: s.users.outsider.auth,
      member: s.users.member.auth,
    };
    const teamsService = ctx.get(TeamsService);
    const invitationsService = ctx.get(InvitationsService);
    const webhooks = ctx.get(WebhooksService);
    const keys = ctx.get(ApiKeysService);
    const billing = ctx.get(BillingService);
    const scim = ctx.get(ScimTokensService);
    const other = s.members['other@t'].id;
    const page = { limit: 10 };
    const hook = { url: 'https://example.test/other', events: ['team.updated' as const] };

    /** method → [call with an actor, expected for outsider, member, support]. */
    const calls: Record<string, [(actor: Actor) => Promise<unknown>, string, string, string]> = {
      'teams.get': [(a) => teamsService.get(a, team), NF, 'ok', 'ok'],
      'teams.update': [(a) => teamsService.update(a, team, { name: 'Taken' }), NF, FB, FB],
      'teams.updateMemberRole': [
        (a) => teamsService.updateMemberRole(a, team, other, { role: 'owner' }),
        NF,
        FB,
        FB,
      ],
      'teams.removeMember': [(a) => teamsService.removeMember(a, team, other), NF, FB, FB],
      'teams.listActivity': [(a) => teamsService.listActivity(a, team, page), NF, FB, 'ok'],
      'invitations.listForTeam': [
        (a) => invitationsService.listForTeam(a, team, page),
        NF,
        FB,
        'ok',
      ],
      'invitations.invite': [
        (a) => invitationsService.invite(a, team, { email: 'new@example.test', role: 'member' }),
        NF,
        FB,
        FB,
      ],
      'invitations.revokeAsOwner': [
        (a) => invitationsService.revokeAsOwner(a, team, s.invitations.i.id),
        NF,
        FB,
        FB,
      ],
      'webhooks.list': [(a) => webhooks.list(a, team, page), NF, FB, 'ok'],
      'webhooks.create': [(a) => webhooks.create(a, team, hook), NF, FB, FB],
      'webhooks.update': [
        (a) => webhooks.update(a, team, endpoint!.id, { description: 'changed' }),
        NF,
        FB,
        FB,
      ],
      'webhooks.disable': [(a) => webhooks.disable(a, team, endpoint!.id), NF, FB, FB],
      'webhooks.rotateSecret': [(a) => webhooks.rotateSecret(a, team, endpoint!.id), NF, FB, FB],
      'webhooks.listDeliveries': [
        (a) => webhooks.listDeliveries(a, team, endpoint!.id, page),
        NF,
        FB,
        'ok',
      ],
      'webhooks.redeliver': [
        (a) => webhooks.redeliver(a, team, endpoint!.id, delivery!.id),
        NF,
        FB,
        FB,
      ],
      'webhooks.remove': [(a) => webhooks.remove(a, team, endpoint!.id), NF, FB, FB],
      'apiKeys.list': [(a) => keys.list(a, team, page), NF, FB, 'ok'],
      'apiKeys.create': [
        (a) => keys.create(a, team, { name: 'new', scopes: ['team:read'] }),
        NF,
        FB,
        FB,
      ],
      'apiKeys.revoke': [(a) => keys.revoke(a, team, key!.id), NF, FB, FB],
      'scim.list': [(a) => scim.list(a, team, page), NF, FB, 'ok'],
      'scim.settings': [(a) => scim.settings(a, team), NF, FB, 'ok'],
      'scim.create': [(a) => scim.create(a, team, { name: 'new' }), NF, FB, FB],
      'scim.updateSettings': [
        (a) => scim.updateSettings(a, team, { ownerGroup: 'Admins' }),
        NF,
        FB,
        FB,
      ],
      'scim.revoke': [(a) => scim.revoke(a, team, scimToken!.id), NF, FB, FB],
    };
    const actual: Record<string, string[]> = {};
    const expected: Record<string, string[]> = {};
    for (const [name, [call, ...want]] of Object.entries(calls)) {
      actual[name] = [
        await outcome(() => call(users.outsider)),
        await outcome(() => call(users.member)),
        await outcome(() => call(support)),
      ];
      expected[name] = want;
    }
    // Back-office only (AdminActor) and user-only (UserActor) operations.
    actual['teams.addMember (support)'] = [
      await outcome(() =>
        teamsService.addMember(support, team, { userId: s.users.outsider.id, role: 'member' }),
      ),
    ];
    expected['teams.addMember (support)'] = [FB];
    for (const who of ['outsider', 'member'] as const) {
      actual[`billing (${who})`] = [
        await outcome(() => billing.createCheckout(users[who], team, 'price_x')),
        await outcome(() => billing.createPortal(users[who], team)),
      ];
      expected[`billing (${who})`] = who === 'outsider' ? [NF, NF] : [FB, FB];
    }
    expect(actual).toEqual(expected);

    // Nothing was changed, logged or queued by any refused call.
    const [row] = await ctx.db.select().from(teams).where(eq(teams.id, team));
    expect(row!.name).toBe(s.teams.t.name);
    expect(await ctx.db.select().from(activityLogs).where(eq(activityLogs.teamId, team))).toEqual(
      [],
    );
    expect(
      (await ctx.db.select().from(teamMembers).where(eq(teamMembers.teamId, team))).length,
    ).toBe(3);
    const [invitation] = await ctx.db
      .select()
      .from(invitations)
      .where(eq(invitations.id, s.invitations.i.id));
    expect(invitation!.status).toBe('pending');
    const endpoints = await ctx.db
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.teamId, team));
    expect(endpoints.map((e) => [e.id, e.enabled, e.description, e.secret])).toEqual([
      [endpoint!.id, true, null, 'x'],
    ]);
    const teamKeys = await ctx.db.select().from(apiKeys).where(eq(apiKeys.teamId, team));
    expect(teamKeys.map((k) => [k.id, k.revokedAt])).toEqual([[key!.id, null]]);
    const tokens = await ctx.db.select().from(scimTokens).where(eq(scimTokens.teamId, team));
    expect(tokens.map((k) => [k.id, k.revokedAt])).toEqual([[scimToken!.id, null]]);
    expect(await scim.ownerGroup(team)).toBe('Owners');
  });

  it('a member may leave (removeMember on themself) and read the team, below HTTP too', async () => {
    const s = await seed(ctx.db, {
      users: { owner: {}, member: {} },
      teams: { t: {} },
      members: [
        { user: 'owner', team: 't', role: 'owner' },
        { user: 'member', team: 't', role: 'member' },
      ],
    });
    const teamsService = ctx.get(TeamsService);
    const team = s.teams.t.id;
    expect((await teamsService.get(s.users.member.auth, team)).teamMembers).toHaveLength(2);
    await teamsService.removeMember(s.users.member.auth, team, s.members['member@t'].id);
    expect(await outcome(() => teamsService.get(s.users.member.auth, team))).toBe(NF);
  });
});
