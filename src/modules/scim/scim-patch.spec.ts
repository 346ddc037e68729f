import { describe, expect, it } from '@jest/globals';
import {
  applyGroupPatch,
  applyUserPatch,
  emailOfUser,
  readPatchBody,
  readUserBody,
  type GroupState,
  type UserState,
} from './scim-patch.js';

const USER: UserState = {
  userName: 'ada@example.com',
  externalId: 'ext-1',
  givenName: 'Ada',
  familyName: 'Lovelace',
  displayName: 'Ada Lovelace',
  active: true,
};

function patch(...operations: object[]) {
  return readPatchBody({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: operations,
  });
}

describe('PATCH on users', () => {
  it("applies Okta's path-less replace with an object value", () => {
    expect(applyUserPatch(USER, patch({ op: 'replace', value: { active: false } }))).toEqual({
      ...USER,
      active: false,
    });
  });

  it("applies Entra ID's capitalised ops with string booleans", () => {
    const off = applyUserPatch(USER, patch({ op: 'Replace', path: 'active', value: 'False' }));
    expect(off.active).toBe(false);
    expect(
      applyUserPatch(off, patch({ op: 'Replace', path: 'active', value: 'True' })).active,
    ).toBe(true);
  });

  it('sets name parts by path, by a path-less dotted key and by a name object', () => {
    expect(
      applyUserPatch(
        USER,
        patch(
          { op: 'Replace', path: 'name.givenName', value: 'Augusta' },
          { op: 'Add', value: { 'name.familyName': 'King', displayName: 'A. King' } },
        ),
      ),
    ).toMatchObject({ givenName: 'Augusta', familyName: 'King', displayName: 'A. King' });
    expect(
      applyUserPatch(USER, patch({ op: 'replace', path: 'name', value: { givenName: 'G' } })),
    ).toMatchObject({ givenName: 'G', familyName: 'Lovelace' });
  });

  it('accepts and ignores attributes it does not keep (emails value paths, the enterprise extension)', () => {
    expect(
      applyUserPatch(
        USER,
        patch(
          { op: 'Replace', path: 'emails[type eq "work"].value', value: 'new@example.com' },
          {
            op: 'Add',
            path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department',
            value: 'R&D',
          },
          { op: 'replace', path: 'title', value: 'Engineer' },
        ),
      ),
    ).toEqual(USER);
  });

  it('removes optional attributes and refuses to remove required ones', () => {
    expect(applyUserPatch(USER, patch({ op: 'remove', path: 'externalId' })).externalId).toBeNull();
    expect(applyUserPatch(USER, patch({ op: 'remove', path: 'name' }))).toMatchObject({
      givenName: null,
      familyName: null,
    });
    expect(() => applyUserPatch(USER, patch({ op: 'remove', path: 'active' }))).toThrow(
      expect.objectContaining({ code: 'scim.mutability' }),
    );
  });

  it('refuses bad values and bad operations with the right scimType', () => {
    expect(() =>
      applyUserPatch(USER, patch({ op: 'replace', path: 'active', value: 'maybe' })),
    ).toThrow(expect.objectContaining({ code: 'scim.invalid_value' }));
    expect(() =>
      applyUserPatch(USER, patch({ op: 'replace', path: 'userName', value: '' })),
    ).toThrow(expect.objectContaining({ code: 'scim.invalid_value' }));
    expect(() => applyUserPatch(USER, patch({ op: 'replace', path: 'a[b', value: 1 }))).toThrow(
      expect.objectContaining({ code: 'scim.invalid_path' }),
    );
    expect(() => patch({ op: 'move', path: 'active', value: true })).toThrow(
      expect.objectContaining({ code: 'scim.invalid_syntax' }),
    );
    expect(() => patch({ op: 'replace', path: 'active' })).toThrow(
      expect.objectContaining({ code: 'scim.invalid_value' }),
    );
    expect(() => readPatchBody({ schemas: ['x'], Operations: [] })).toThrow(
      expect.objectContaining({ code: 'scim.invalid_syntax' }),
    );
    expect(() => applyUserPatch(USER, patch({ op: 'replace', value: 'x' }))).toThrow(
      expect.objectContaining({ code: 'scim.invalid_value' }),
    );
  });

  it('leaves the input state untouched', () => {
    const before = { ...USER };
    applyUserPatch(USER, patch({ op: 'replace', value: { active: false, displayName: 'X' } }));
    expect(USER).toEqual(before);
  });
});

describe('User bodies', () => {
  it('reads POST/PUT bodies; active defaults to true, or to the previous value on PUT', () => {
    const body = {
      userName: 'Ada@Example.com',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ value: 'ada@example.com', primary: true }],
      externalId: 'e1',
    };
    expect(readUserBody(body)).toMatchObject({ userName: 'Ada@Example.com', active: true });
    expect(readUserBody(body, { ...USER, active: false }).active).toBe(false);
    expect(readUserBody({ ...body, active: 'False' }).active).toBe(false);
    expect(emailOfUser(body, 'Ada@Example.com')).toBe('ada@example.com');
  });

  it('takes the primary email when userName is not an address, else refuses', () => {
    const body = {
      userName: 'ada',
      emails: [{ value: 'x@example.com' }, { value: 'Ada@Example.com', primary: true }],
    };
    expect(emailOfUser(body, 'ada')).toBe('ada@example.com');
    expect(() => emailOfUser({ userName: 'ada' }, 'ada')).toThrow(
      expect.objectContaining({ code: 'scim.invalid_value' }),
    );
    expect(() => readUserBody({ name: {} })).toThrow(
      expect.objectContaining({ code: 'scim.invalid_value' }),
    );
    expect(() => readUserBody([])).toThrow(
      expect.objectContaining({ code: 'scim.invalid_syntax' }),
    );
  });
});

describe('PATCH on groups', () => {
  const GROUP: GroupState = { displayName: 'Owners', externalId: null, members: ['u1', 'u2'] };

  it('adds members (Okta and Entra), without duplicates', () => {
    expect(
      applyGroupPatch(
        GROUP,
        patch({ op: 'Add', path: 'members', value: [{ value: 'u2' }, { value: 'u3' }] }),
      ).members,
    ).toEqual(['u1', 'u2', 'u3']);
  });

  it('removes members by value path (RFC, Okta) and by value list (Entra without the 2020 flag)', () => {
    expect(
      applyGroupPatch(GROUP, patch({ op: 'remove', path: 'members[value eq "u1"]' })).members,
    ).toEqual(['u2']);
    expect(
      applyGroupPatch(GROUP, patch({ op: 'Remove', path: 'members', value: [{ value: 'u2' }] }))
        .members,
    ).toEqual(['u1']);
    expect(applyGroupPatch(GROUP, patch({ op: 'remove', path: 'members' })).members).toEqual([]);
  });

  it('replaces members and renames, with or without a path', () => {
    expect(
      applyGroupPatch(
        GROUP,
        patch({
          op: 'replace',
          value: { id: 'g1', displayName: 'Admins', members: [{ value: 'u9' }] },
        }),
      ),
    ).toEqual({ displayName: 'Admins', externalId: null, members: ['u9'] });
    expect(
      applyGroupPatch(GROUP, patch({ op: 'Replace', path: 'displayName', value: 'Staff' }))
        .displayName,
    ).toBe('Staff');
  });

  it('refuses members without a value', () => {
    expect(() =>
      applyGroupPatch(GROUP, patch({ op: 'add', path: 'members', value: [{}] })),
    ).toThrow(expect.objectContaining({ code: 'scim.invalid_value' }));
  });
});
