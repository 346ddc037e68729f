import { describe, expect, it } from '@jest/globals';
import {
  API_KEY_SCOPES,
  type Actor,
  type AdminActor,
  type ApiKeyActor,
  type UserActor,
} from '../../common/auth/actor.js';
import type { TeamRole } from '../../database/schema.js';
import {
  decideAccountWrite,
  decideRoleGrant,
  decideTeamAccess,
  TEAM_ACTIONS,
  type AccessVerdict,
  type TeamAction,
} from './access.policy.js';

const TEAM = 7;
const user: UserActor = {
  kind: 'user',
  id: 1,
  email: 'u@example.test',
  name: null,
  role: 'member',
  emailVerified: true,
  locale: 'en',
  sessionId: 's',
  ip: null,
};
const admin: AdminActor = {
  kind: 'admin',
  id: 2,
  email: 'a@example.test',
  role: 'admin',
  ip: null,
};
const support: AdminActor = { ...admin, role: 'support' };
const key: ApiKeyActor = {
  kind: 'apiKey',
  keyId: 3,
  teamId: TEAM,
  scopes: API_KEY_SCOPES,
  createdBy: 1,
  ip: null,
};

/** Each column: an actor and, for a user, their membership of TEAM (null: not a member). */
const CALLERS: Record<string, [Actor, { role: TeamRole } | null]> = {
  owner: [user, { role: 'owner' }],
  member: [user, { role: 'member' }],
  outsider: [user, null],
  'unverified owner': [{ ...user, emailVerified: false }, { role: 'owner' }],
  'key, every scope': [key, null],
  'key, no scope': [{ ...key, scopes: [] }, null],
  'key of another team': [{ ...key, teamId: TEAM + 1 }, null],
  admin: [admin, null],
  support: [support, null],
};
const COLUMNS = Object.keys(CALLERS);

const A = 'allow';
const F = 'forbidden';
const N = 'not_found';
const U = 'unauthorized';
const V = 'unverified';

/** The expected verdict of every team action for each caller, in COLUMNS' order. */
// prettier-ignore
const EXPECTED: Record<TeamAction, AccessVerdict[]> = {
  //                    owner member outsider unverified key  no-scope other-team admin support
  'team.read':          [A,   A,     N,       A,         A,   F,       N,         A,    A],
  'team.update':        [A,   F,     N,       A,         U,   U,       U,         A,    F],
  'activity.read':      [A,   F,     N,       A,         A,   F,       N,         A,    A],
  'members.add':        [A,   F,     N,       A,         U,   U,       U,         A,    F],
  'members.update':     [A,   F,     N,       A,         A,   F,       N,         A,    F],
  'members.remove':     [A,   A,     N,       A,         A,   F,       N,         A,    F],
  'invitations.read':   [A,   F,     N,       A,         A,   F,       N,         A,    A],
  'invitations.create': [A,   F,     N,       V,         A,   F,       N,         A,    F],
  'invitations.revoke': [A,   F,     N,       A,         A,   F,       N,         A,    F],
  'apiKeys.read':       [A,   F,     N,       A,         U,   U,       U,         A,    A],
  'apiKeys.create':     [A,   F,     N,       V,         U,   U,       U,         A,    F],
  'apiKeys.revoke':     [A,   F,     N,       A,         U,   U,       U,         A,    F],
  'webhooks.read':      [A,   F,     N,       A,         A,   F,       N,         A,    A],
  'webhooks.create':    [A,   F,     N,       V,         A,   F,       N,         A,    F],
  'webhooks.update':    [A,   F,     N,       A,         A,   F,       N,         A,    F],
  'billing.manage':     [A,   F,     N,       A,         U,   U,       U,         A,    F],
  'domains.read':       [A,   F,     N,       A,         U,   U,       U,         A,    A],
  'domains.add':        [A,   F,     N,       V,         U,   U,       U,         A,    F],
  'domains.verify':     [A,   F,     N,       V,         U,   U,       U,         A,    F],
  'domains.remove':     [A,   F,     N,       A,         U,   U,       U,         A,    F],
  'plan.read':          [A,   A,     N,       A,         A,   F,       N,         A,    A],
  'plan.override':      [F,   F,     N,       F,         U,   U,       U,         A,    F],
  'billing.invoices.read': [A, F,     N,       A,         U,   U,       U,         A,    A],
  'billing.cancel':     [A,   F,     N,       A,         U,   U,       U,         A,    F],
  'billing.resume':     [A,   F,     N,       A,         U,   U,       U,         A,    F],
  'scim.read':          [A,   F,     N,       A,         U,   U,       U,         A,    A],
  'scim.create':        [A,   F,     N,       V,         U,   U,       U,         A,    F],
  'scim.update':        [A,   F,     N,       A,         U,   U,       U,         A,    F],
  'scim.revoke':        [A,   F,     N,       A,         U,   U,       U,         A,    F],
  'sso.read':           [A,   F,     N,       A,         U,   U,       U,         A,    A],
  'sso.create':         [A,   F,     N,       V,         U,   U,       U,         A,    F],
  'sso.update':         [A,   F,     N,       A,         U,   U,       U,         A,    F],
};

describe('decideTeamAccess: every team action × every kind of caller', () => {
  it('the table covers every action the policy knows', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(Object.keys(TEAM_ACTIONS).sort());
  });

  it.each(Object.entries(EXPECTED))('%s', (action, verdicts) => {
    const actual = COLUMNS.map((column) => {
      const [actor, membership] = CALLERS[column]!;
      return [
        column,
        decideTeamAccess(actor, TEAM, membership, TEAM_ACTIONS[action as TeamAction]),
      ];
    });
    expect(actual).toEqual(COLUMNS.map((column, i) => [column, verdicts[i]]));
  });

  it('a key needs the exact scope its action names, not just any scope', () => {
    const readOnly: ApiKeyActor = { ...key, scopes: ['team:read'] };
    expect(decideTeamAccess(readOnly, TEAM, null, TEAM_ACTIONS['team.read'])).toBe(A);
    expect(decideTeamAccess(readOnly, TEAM, null, TEAM_ACTIONS['members.remove'])).toBe(F);
    expect(decideTeamAccess(readOnly, TEAM, null, TEAM_ACTIONS['webhooks.read'])).toBe(F);
  });
});

describe('decideRoleGrant (API.md v1.2: a key never creates or grants owner)', () => {
  it('refuses owner to a team API key, whatever its scopes', () => {
    expect(decideRoleGrant(key, 'owner')).toBe('forbidden');
    expect(decideRoleGrant({ ...key, scopes: ['members:write'] }, 'owner')).toBe('forbidden');
  });
  it('lets a key grant member', () => {
    expect(decideRoleGrant(key, 'member')).toBe('allow');
  });
  it('leaves users and back-office staff to the team-role checks', () => {
    for (const actor of [user, admin, support]) {
      expect(decideRoleGrant(actor, 'owner')).toBe('allow');
      expect(decideRoleGrant(actor, 'member')).toBe('allow');
    }
  });
});

describe('decideAccountWrite (changes to an account outside any team)', () => {
  it('users and admins may, support staff are read-only, team API keys never', () => {
    expect(
      [user, admin, support, key].map((actor) => [actor.kind, decideAccountWrite(actor)]),
    ).toEqual([
      ['user', 'allow'],
      ['admin', 'allow'],
      ['admin', 'read_only'],
      ['apiKey', 'unauthorized'],
    ]);
  });
});
