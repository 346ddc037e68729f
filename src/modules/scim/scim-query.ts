import { parseFilter, ScimFilterError, type Filter } from './scim-filter.js';
import { ScimErrors } from './scim.errors.js';

/**
 * What GET /Users and GET /Groups can filter on: one or more equality tests joined by `and`
 * (RFC 7644 §3.4.2.2), on the attributes provisioning clients look resources up by. Anything
 * else (`or`, `co`, another attribute...) is a 400 `invalidFilter` naming what is supported,
 * rather than an answer that silently ignores part of the filter.
 */
export type UserCondition =
  | { attr: 'userName' | 'email' | 'externalId' | 'id'; value: string }
  | { attr: 'active'; value: boolean };

export type GroupCondition = {
  attr: 'displayName' | 'externalId' | 'id' | 'member';
  value: string;
};

export const USER_FILTERS =
  'userName eq, emails.value eq (or emails[value eq …]), externalId eq, id eq, active eq, joined by "and"';
export const GROUP_FILTERS =
  'displayName eq, externalId eq, id eq, members.value eq (or members[value eq …]), joined by "and"';

function parse(input: string): Filter {
  try {
    return parseFilter(input);
  } catch (error) {
    if (error instanceof ScimFilterError) throw ScimErrors.invalidFilter(error.message);
    throw error;
  }
}

/** The `eq` tests of a conjunction, as `[attribute path, value]`; anything else refused. */
function equalities(filter: Filter, supported: string): [string, unknown][] {
  switch (filter.kind) {
    case 'and':
      return [...equalities(filter.left, supported), ...equalities(filter.right, supported)];
    case 'compare':
      if (filter.op === 'eq') return [[filter.attr, filter.value]];
      break;
    case 'valuePath': {
      // `emails[value eq "x"]` is `emails.value eq "x"`.
      const inner = filter.filter;
      if (inner.kind === 'compare' && inner.op === 'eq' && inner.attr === 'value') {
        return [[`${filter.attr}.value`, inner.value]];
      }
      break;
    }
    case 'or':
    case 'not':
    case 'present':
      break;
  }
  throw ScimErrors.invalidFilter(`Unsupported filter; supported: ${supported}`);
}

function stringValue(value: unknown, attr: string): string {
  if (typeof value !== 'string') throw ScimErrors.invalidFilter(`${attr} compares with a string`);
  return value;
}

export function userConditions(input: string): UserCondition[] {
  return equalities(parse(input), USER_FILTERS).map(([attr, value]): UserCondition => {
    switch (attr) {
      case 'username':
        return { attr: 'userName', value: stringValue(value, 'userName') };
      case 'emails.value':
      case 'emails':
        return { attr: 'email', value: stringValue(value, 'emails.value') };
      case 'externalid':
        return { attr: 'externalId', value: stringValue(value, 'externalId') };
      case 'id':
        return { attr: 'id', value: stringValue(value, 'id') };
      case 'active':
        if (typeof value !== 'boolean')
          throw ScimErrors.invalidFilter('active compares with true or false');
        return { attr: 'active', value };
      default:
        throw ScimErrors.invalidFilter(
          `Unsupported filter attribute "${attr}"; supported: ${USER_FILTERS}`,
        );
    }
  });
}

export function groupConditions(input: string): GroupCondition[] {
  return equalities(parse(input), GROUP_FILTERS).map(([attr, value]): GroupCondition => {
    switch (attr) {
      case 'displayname':
        return { attr: 'displayName', value: stringValue(value, 'displayName') };
      case 'externalid':
        return { attr: 'externalId', value: stringValue(value, 'externalId') };
      case 'id':
        return { attr: 'id', value: stringValue(value, 'id') };
      case 'members.value':
      case 'members':
        return { attr: 'member', value: stringValue(value, 'members.value') };
      default:
        throw ScimErrors.invalidFilter(
          `Unsupported filter attribute "${attr}"; supported: ${GROUP_FILTERS}`,
        );
    }
  });
}
