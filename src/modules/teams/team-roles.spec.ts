import { describe, expect, it } from '@jest/globals';
import { hasTeamRole } from '../access/access.policy.js';
import { canChangeRole, canRemoveMember, type MembershipRef } from './team-roles.js';

const owner: MembershipRef = { id: 1, userId: 10, role: 'owner' };
const otherOwner: MembershipRef = { id: 2, userId: 20, role: 'owner' };
const member: MembershipRef = { id: 3, userId: 30, role: 'member' };
const otherMember: MembershipRef = { id: 4, userId: 40, role: 'member' };

describe('team role rules', () => {
  it('an owner satisfies both roles, a member only "member"', () => {
    expect(hasTeamRole('owner', 'owner')).toBe(true);
    expect(hasTeamRole('owner', 'member')).toBe(true);
    expect(hasTeamRole('member', 'member')).toBe(true);
    expect(hasTeamRole('member', 'owner')).toBe(false);
  });

  describe('removing a member', () => {
    it('owners remove members', () => {
      expect(canRemoveMember(owner, member, 1)).toBe('allowed');
    });
    it('a member may leave (remove themself) but not remove others', () => {
      expect(canRemoveMember(member, member, 1)).toBe('allowed');
      expect(canRemoveMember(member, otherMember, 1)).toBe('forbidden');
      expect(canRemoveMember(member, owner, 2)).toBe('forbidden');
    });
    it('the last owner can neither leave nor be removed', () => {
      expect(canRemoveMember(owner, owner, 1)).toBe('last_owner');
    });
    it('an owner may leave or remove another owner while another owner remains', () => {
      expect(canRemoveMember(owner, owner, 2)).toBe('allowed');
      expect(canRemoveMember(owner, otherOwner, 2)).toBe('allowed');
    });
  });

  describe('changing a role', () => {
    it('only owners change roles', () => {
      expect(canChangeRole(member, member, 'owner', 1)).toBe('forbidden');
      expect(canChangeRole(owner, member, 'owner', 1)).toBe('allowed');
    });
    it('the last owner cannot be demoted, also not by themself', () => {
      expect(canChangeRole(owner, owner, 'member', 1)).toBe('last_owner');
    });
    it('an owner can be demoted while another owner remains', () => {
      expect(canChangeRole(owner, otherOwner, 'member', 2)).toBe('allowed');
      expect(canChangeRole(owner, owner, 'member', 2)).toBe('allowed');
    });
    it('keeping an owner an owner is always fine', () => {
      expect(canChangeRole(owner, owner, 'owner', 1)).toBe('allowed');
    });
  });

  describe('a team API key with members:write (no membership, owner powers)', () => {
    const key = { id: null, role: 'owner' } as const;
    it('changes roles and removes members, owners included', () => {
      expect(canChangeRole(key, member, 'owner', 1)).toBe('allowed');
      expect(canChangeRole(key, otherOwner, 'member', 2)).toBe('allowed');
      expect(canRemoveMember(key, member, 1)).toBe('allowed');
      expect(canRemoveMember(key, otherOwner, 2)).toBe('allowed');
    });
    it('never takes the last owner away', () => {
      expect(canChangeRole(key, owner, 'member', 1)).toBe('last_owner');
      expect(canRemoveMember(key, owner, 1)).toBe('last_owner');
    });
  });
});
