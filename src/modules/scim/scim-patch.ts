import { parseEmail } from '../../common/email.js';
import { matchesValue, parsePatchPath, ScimFilterError, type PatchPath } from './scim-filter.js';
import { ScimErrors } from './scim.errors.js';

/**
 * The pure half of the SCIM service: reading User and Group bodies (POST, PUT) and applying
 * PATCH operations (RFC 7644 §3.5.2) to the attributes this service keeps, as Okta and
 * Microsoft Entra ID send them: `op` in any case (`Replace`), booleans as strings (`"False"`),
 * path-less operations with an object value (`{"active": false}`, also with dotted keys such
 * as `name.givenName`), value paths (`emails[type eq "work"].value`, `members[value eq "…"]`),
 * and member removal with a value list (Entra without `aadOptscim062020`).
 * Attributes the service does not keep (title, phoneNumbers, the enterprise extension...) are
 * accepted and ignored, so a directory's default mappings never fail a provisioning run.
 */

export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** The attributes of a directory user this service keeps. */
export interface UserState {
  userName: string;
  externalId: string | null;
  givenName: string | null;
  familyName: string | null;
  displayName: string | null;
  active: boolean;
}

/** The attributes of a directory group this service keeps; `members` are SCIM user ids. */
export interface GroupState {
  displayName: string;
  externalId: string | null;
  members: string[];
}

export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path?: string;
  value?: unknown;
}

const NAME_MAX = 100;
const TEXT_MAX = 255;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A key of a JSON object, found case-insensitively (attribute names are, RFC 7643 §2.1). */
function field(body: Record<string, unknown>, name: string): unknown {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(body)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

/** A boolean, or Entra ID's `"True"`/`"False"` strings (any case). */
export function scimBoolean(value: unknown, attr: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  throw ScimErrors.invalidValue(`"${attr}" must be a boolean`);
}

function text(value: unknown, attr: string, max: number): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') throw ScimErrors.invalidValue(`"${attr}" must be a string`);
  const trimmed = value.trim();
  if (trimmed.length > max) {
    throw ScimErrors.invalidValue(`"${attr}" must be at most ${max} characters`);
  }
  return trimmed === '' ? null : trimmed;
}

function requiredText(value: unknown, attr: string, max: number): string {
  const result = text(value, attr, max);
  if (result === null) throw ScimErrors.invalidValue(`"${attr}" is required`);
  return result;
}

/**
 * The account address of a User body: `userName` when it is an email address (the contract:
 * userName = email), else the primary (or first `work`, or first) of `emails`.
 */
export function emailOfUser(body: Record<string, unknown>, userName: string): string {
  const fromUserName = parseEmail(userName);
  if (fromUserName !== undefined) return fromUserName;
  const emails = field(body, 'emails');
  if (Array.isArray(emails)) {
    const items = emails.filter(isObject);
    const chosen =
      items.find((e) => field(e, 'primary') === true || field(e, 'primary') === 'True') ??
      items.find((e) => String(field(e, 'type')).toLowerCase() === 'work') ??
      items[0];
    const value = chosen === undefined ? undefined : field(chosen, 'value');
    if (typeof value === 'string') {
      const email = parseEmail(value);
      if (email !== undefined) return email;
    }
  }
  throw ScimErrors.invalidValue('"userName" (or a primary email) must be a valid email address');
}

/** A User body (POST, PUT) as the state it describes; `previous` keeps `active` when absent (PUT). */
export function readUserBody(body: unknown, previous?: UserState): UserState {
  if (!isObject(body)) throw ScimErrors.invalidSyntax('The body must be a JSON object');
  const name = field(body, 'name');
  if (name !== undefined && name !== null && !isObject(name)) {
    throw ScimErrors.invalidValue('"name" must be an object');
  }
  const active = field(body, 'active');
  return {
    userName: requiredText(field(body, 'userName'), 'userName', TEXT_MAX),
    externalId: text(field(body, 'externalId'), 'externalId', TEXT_MAX),
    givenName: isObject(name) ? text(field(name, 'givenName'), 'name.givenName', NAME_MAX) : null,
    familyName: isObject(name)
      ? text(field(name, 'familyName'), 'name.familyName', NAME_MAX)
      : null,
    displayName: text(field(body, 'displayName'), 'displayName', TEXT_MAX),
    active:
      active === undefined || active === null
        ? (previous?.active ?? true)
        : scimBoolean(active, 'active'),
  };
}

/** Member ids of a Group body's or PATCH value's `members` (`[{ "value": "<id>" }]`). */
function memberIds(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => {
    const id = isObject(item) ? field(item, 'value') : undefined;
    if (typeof id !== 'string' || id === '') {
      throw ScimErrors.invalidValue('Each member must be an object with a "value" (a user id)');
    }
    return id;
  });
}

/** A Group body (POST, PUT) as the state it describes. */
export function readGroupBody(body: unknown): GroupState {
  if (!isObject(body)) throw ScimErrors.invalidSyntax('The body must be a JSON object');
  return {
    displayName: requiredText(field(body, 'displayName'), 'displayName', TEXT_MAX),
    externalId: text(field(body, 'externalId'), 'externalId', TEXT_MAX),
    members: [...new Set(memberIds(field(body, 'members')))],
  };
}

/** The `Operations` of a PatchOp body, with `op` lower-cased (Entra ID sends `Replace`). */
export function readPatchBody(body: unknown): PatchOperation[] {
  if (!isObject(body)) throw ScimErrors.invalidSyntax('The body must be a JSON object');
  const schemas = field(body, 'schemas');
  if (schemas !== undefined && !(Array.isArray(schemas) && schemas.includes(PATCH_OP_SCHEMA))) {
    throw ScimErrors.invalidSyntax(`"schemas" must contain "${PATCH_OP_SCHEMA}"`);
  }
  const operations = field(body, 'Operations');
  if (!Array.isArray(operations) || operations.length === 0) {
    throw ScimErrors.invalidSyntax('"Operations" must be a non-empty array');
  }
  if (operations.length > 1000) throw ScimErrors.invalidValue('Too many operations');
  return operations.map((raw) => {
    if (!isObject(raw)) throw ScimErrors.invalidSyntax('Each operation must be an object');
    const op = field(raw, 'op');
    const lower = typeof op === 'string' ? op.toLowerCase() : undefined;
    if (lower !== 'add' && lower !== 'replace' && lower !== 'remove') {
      throw ScimErrors.invalidSyntax('"op" must be "add", "replace" or "remove"');
    }
    const path = field(raw, 'path');
    if (path !== undefined && typeof path !== 'string') {
      throw ScimErrors.invalidPath('"path" must be a string');
    }
    const operation: PatchOperation = { op: lower };
    if (path !== undefined && path.trim() !== '') operation.path = path;
    const value = field(raw, 'value');
    if (value !== undefined) operation.value = value;
    if (lower !== 'remove' && operation.value === undefined) {
      throw ScimErrors.invalidValue(`"${lower}" needs a "value"`);
    }
    if (lower === 'remove' && operation.path === undefined) {
      throw ScimErrors.noTarget('"remove" needs a "path"');
    }
    return operation;
  });
}

function pathOf(raw: string): PatchPath {
  try {
    return parsePatchPath(raw);
  } catch (error) {
    if (error instanceof ScimFilterError) throw ScimErrors.invalidPath(error.message);
    throw error;
  }
}

/**
 * A path-less add/replace: each key of the object value is a path of its own (Okta's
 * `{"active": false}`, Entra's `{"name.givenName": "…"}`); a nested object (`name`) is applied
 * attribute by attribute.
 */
function pathless(value: unknown): [string, unknown][] {
  if (!isObject(value)) {
    throw ScimErrors.invalidValue('An operation without "path" needs an object "value"');
  }
  return Object.entries(value);
}

/** Applies PATCH operations to a user; returns the new state (the input is left as it was). */
export function applyUserPatch(state: UserState, operations: PatchOperation[]): UserState {
  const next = { ...state };
  for (const operation of operations) {
    if (operation.path === undefined) {
      for (const [key, value] of pathless(operation.value)) {
        setUserAttr(next, pathOf(key), value, operation.op);
      }
    } else if (operation.op === 'remove') {
      removeUserAttr(next, pathOf(operation.path));
    } else {
      setUserAttr(next, pathOf(operation.path), operation.value, operation.op);
    }
  }
  return next;
}

function setUserAttr(
  state: UserState,
  path: PatchPath,
  value: unknown,
  op: 'add' | 'replace' | 'remove',
): void {
  switch (path.attr) {
    case 'username':
      state.userName = requiredText(value, 'userName', TEXT_MAX);
      return;
    case 'externalid':
      state.externalId = text(value, 'externalId', TEXT_MAX);
      return;
    case 'displayname':
      state.displayName = text(value, 'displayName', TEXT_MAX);
      return;
    case 'active':
      state.active = scimBoolean(value, 'active');
      return;
    case 'name':
      if (path.sub === undefined) {
        if (!isObject(value)) throw ScimErrors.invalidValue('"name" must be an object');
        for (const [key, inner] of Object.entries(value)) {
          setUserAttr(state, { attr: 'name', sub: key.toLowerCase() }, inner, op);
        }
      } else if (path.sub === 'givenname') {
        state.givenName = text(value, 'name.givenName', NAME_MAX);
      } else if (path.sub === 'familyname') {
        state.familyName = text(value, 'name.familyName', NAME_MAX);
      }
      return;
    case 'id':
    case 'meta':
    case 'groups':
      // Read-only: a client echoing them back in a path-less replace is harmless; naming one
      // in a path is a mistake.
      if (op !== 'remove' && path.sub === undefined && path.filter === undefined) return;
      throw ScimErrors.mutability(`"${path.attr}" is read-only`);
    default:
      // Not kept by this service (emails mirror the account's address; title, phone numbers,
      // the enterprise extension, ...): accepted and ignored.
      return;
  }
}

function removeUserAttr(state: UserState, path: PatchPath): void {
  switch (path.attr) {
    case 'username':
    case 'active':
      throw ScimErrors.mutability(`"${path.attr}" cannot be removed`);
    case 'externalid':
      state.externalId = null;
      return;
    case 'displayname':
      state.displayName = null;
      return;
    case 'name':
      if (path.sub === undefined || path.sub === 'givenname') state.givenName = null;
      if (path.sub === undefined || path.sub === 'familyname') state.familyName = null;
      return;
    case 'id':
    case 'meta':
    case 'groups':
      throw ScimErrors.mutability(`"${path.attr}" is read-only`);
    default:
      return;
  }
}

/** Applies PATCH operations to a group; returns the new state (the input is left as it was). */
export function applyGroupPatch(state: GroupState, operations: PatchOperation[]): GroupState {
  const next: GroupState = { ...state, members: [...state.members] };
  for (const operation of operations) {
    if (operation.path === undefined) {
      for (const [key, value] of pathless(operation.value)) {
        setGroupAttr(next, pathOf(key), value, operation.op);
      }
    } else if (operation.op === 'remove') {
      removeGroupAttr(next, pathOf(operation.path), operation.value);
    } else {
      setGroupAttr(next, pathOf(operation.path), operation.value, operation.op);
    }
  }
  return next;
}

function setGroupAttr(
  state: GroupState,
  path: PatchPath,
  value: unknown,
  op: 'add' | 'replace' | 'remove',
): void {
  switch (path.attr) {
    case 'displayname':
      state.displayName = requiredText(value, 'displayName', TEXT_MAX);
      return;
    case 'externalid':
      state.externalId = text(value, 'externalId', TEXT_MAX);
      return;
    case 'members': {
      if (path.filter !== undefined || path.sub !== undefined) {
        throw ScimErrors.invalidPath('Add or replace members with path "members" and a value list');
      }
      const ids = memberIds(value);
      state.members =
        op === 'replace' ? [...new Set(ids)] : [...new Set([...state.members, ...ids])];
      return;
    }
    case 'id':
    case 'meta':
      if (op !== 'remove' && path.sub === undefined) return;
      throw ScimErrors.mutability(`"${path.attr}" is read-only`);
    default:
      return;
  }
}

function removeGroupAttr(state: GroupState, path: PatchPath, value: unknown): void {
  switch (path.attr) {
    case 'displayname':
      throw ScimErrors.mutability('"displayName" cannot be removed');
    case 'externalid':
      state.externalId = null;
      return;
    case 'members': {
      if (path.filter !== undefined) {
        // `members[value eq "<id>"]` (RFC 7644 §3.5.2.2, Okta, Entra with the 2020 flag).
        const filter = path.filter;
        state.members = state.members.filter((id) => !matchesValue(filter, { value: id }));
      } else if (value !== undefined) {
        // `"path": "members", "value": [{"value": "<id>"}]`: Entra ID without the flag.
        const ids = new Set(memberIds(value));
        state.members = state.members.filter((id) => !ids.has(id));
      } else {
        state.members = [];
      }
      return;
    }
    default:
      return;
  }
}
