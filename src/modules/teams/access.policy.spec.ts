import { describe, expect, it } from '@jest/globals';
import type { AdminActor, ApiKeyActor, UserActor } from '../../common/auth/actor.js';
import { decideRoleGrant, decideTeamAccess } from './access.policy.js';

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
  scopes: ['team:read', 'members:write'],
  createdBy: 1,
  ip: null,
};

describe('decideTeamAccess', () => {
  describe('a signed-in user, by membership', () => {
    it('a non-member is told the team does not exist (404), whatever the role asked', () => {
      expect(decideTeamAccess(user, TEAM, null, 'member')).toBe('not_found');
      expect(decideTeamAccess(user, TEAM, null, 'owner', 'team:read', 'read')).toBe('not_found');
    });
    it('a member may do member things, not owner things (403)', () => {
      expect(decideTeamAccess(user, TEAM, { role: 'member' }, 'member')).toBe('allow');
      expect(decideTeamAccess(user, TEAM, { role: 'member' }, 'owner')).toBe('forbidden');
    });
    it('an owner may do both', () => {
      expect(decideTeamAccess(user, TEAM, { role: 'owner' }, 'member')).toBe('allow');
      expect(decideTeamAccess(user, TEAM, { role: 'owner' }, 'owner')).toBe('allow');
    });
    it('a route that names an API-key scope changes nothing for users', () => {
      expect(decideTeamAccess(user, TEAM, { role: 'member' }, 'owner', 'members:write')).toBe(
        'forbidden',
      );
    });
  });

  describe('a back-office admin', () => {
    it('role admin acts on any team with an owner’s powers, without a membership', () => {
      expect(decideTeamAccess(admin, TEAM, null, 'owner')).toBe('allow');
      expect(decideTeamAccess(admin, 12345, null, 'owner', undefined, 'write')).toBe('allow');
    });
    it('support staff may read but not write (403); writes are the default intent', () => {
      expect(decideTeamAccess(support, TEAM, null, 'owner', undefined, 'read')).toBe('allow');
      expect(decideTeamAccess(support, TEAM, null, 'owner', undefined, 'write')).toBe('forbidden');
      expect(decideTeamAccess(support, TEAM, null, 'member')).toBe('forbidden');
    });
  });

  describe('a team API key', () => {
    it('is refused (401) where the operation names no scope for keys', () => {
      expect(decideTeamAccess(key, TEAM, null, 'owner')).toBe('unauthorized');
      expect(decideTeamAccess(key, TEAM, null, 'member', undefined, 'read')).toBe('unauthorized');
    });
    it('sees another team as missing (404), even with the scope', () => {
      expect(decideTeamAccess(key, TEAM + 1, null, 'member', 'team:read', 'read')).toBe(
        'not_found',
      );
    });
    it('acts on its own team within its scopes, whatever the team role asked', () => {
      expect(decideTeamAccess(key, TEAM, null, 'member', 'team:read', 'read')).toBe('allow');
      expect(decideTeamAccess(key, TEAM, null, 'owner', 'members:write')).toBe('allow');
    });
    it('is forbidden (403) on its own team without the scope', () => {
      expect(decideTeamAccess(key, TEAM, null, 'owner', 'invitations:write')).toBe('forbidden');
      expect(decideTeamAccess(key, TEAM, null, 'owner', 'activity:read', 'read')).toBe('forbidden');
    });
    it('ignores any membership passed in: only the key’s team and scopes count', () => {
      expect(decideTeamAccess(key, TEAM, { role: 'owner' }, 'owner', 'webhooks:write')).toBe(
        'forbidden',
      );
    });
  });
});

describe('decideRoleGrant (API.md v1.2: a key never creates or grants owner)', () => {
  it('refuses owner to a team API key, whatever its scopes', () => {
    const everything: ApiKeyActor = {
      ...key,
      scopes: [
        'team:read',
        'members:write',
        'invitations:write',
        'activity:read',
        'webhooks:write',
      ],
    };
    expect(decideRoleGrant(key, 'owner')).toBe('forbidden');
    expect(decideRoleGrant(everything, 'owner')).toBe('forbidden');
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
