import type { ScimGroup } from '../../database/schema.js';
import type { GroupMemberRow, ScimUserRow } from './scim.repository.js';

/** RFC 7643/7644 URNs this service speaks. */
export const SCHEMAS = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

export const DEFAULT_COUNT = 100;
export const MAX_COUNT = 200;

export type ScimResource = Record<string, unknown> & { id?: string };

function etag(version: number): string {
  return `W/"${version}"`;
}

export function userResource(
  base: string,
  row: ScimUserRow,
  groups: { id: string; displayName: string }[],
): ScimResource {
  const name: Record<string, string> = {};
  if (row.givenName !== null) name.givenName = row.givenName;
  if (row.familyName !== null) name.familyName = row.familyName;
  const formatted = [row.givenName, row.familyName].filter((p) => p !== null).join(' ');
  if (formatted !== '') name.formatted = formatted;
  return {
    schemas: [SCHEMAS.user],
    id: row.id,
    ...(row.externalId === null ? {} : { externalId: row.externalId }),
    userName: row.userName,
    ...(Object.keys(name).length === 0 ? {} : { name }),
    ...(row.displayName === null ? {} : { displayName: row.displayName }),
    emails: [{ value: row.email, type: 'work', primary: true }],
    active: row.active,
    groups: groups.map((g) => ({
      value: g.id,
      display: g.displayName,
      $ref: `${base}/Groups/${g.id}`,
    })),
    meta: {
      resourceType: 'User',
      created: row.createdAt.toISOString(),
      lastModified: row.updatedAt.toISOString(),
      location: `${base}/Users/${row.id}`,
      version: etag(row.version),
    },
  };
}

export function groupResource(
  base: string,
  group: ScimGroup,
  members: GroupMemberRow[],
): ScimResource {
  return {
    schemas: [SCHEMAS.group],
    id: group.id,
    displayName: group.displayName,
    ...(group.externalId === null ? {} : { externalId: group.externalId }),
    members: members.map((m) => ({
      value: m.scimUserId,
      display: m.displayName ?? m.userName,
      $ref: `${base}/Users/${m.scimUserId}`,
    })),
    meta: {
      resourceType: 'Group',
      created: group.createdAt.toISOString(),
      lastModified: group.updatedAt.toISOString(),
      location: `${base}/Groups/${group.id}`,
      version: etag(group.version),
    },
  };
}

/** `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5) on top-level attributes. */
export interface Projection {
  attributes?: string[];
  excludedAttributes?: string[];
}

const ALWAYS_RETURNED = new Set(['id', 'schemas']);

function names(raw: string | undefined): string[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw.split(',').map((name) => {
    const lower = name.trim().toLowerCase();
    // `urn:…:User:userName` and `name.givenName` project their top-level attribute.
    const afterUrn = lower.startsWith('urn:') ? lower.slice(lower.lastIndexOf(':') + 1) : lower;
    return afterUrn.split('.')[0]!;
  });
}

export function projection(query: {
  attributes?: string;
  excludedAttributes?: string;
}): Projection {
  return {
    attributes: names(query.attributes),
    excludedAttributes: names(query.excludedAttributes),
  };
}

export function project(resource: ScimResource, p: Projection): ScimResource {
  if (p.attributes === undefined && p.excludedAttributes === undefined) return resource;
  const out: ScimResource = {};
  for (const [key, value] of Object.entries(resource)) {
    const lower = key.toLowerCase();
    if (ALWAYS_RETURNED.has(lower)) out[key] = value;
    else if (p.attributes !== undefined) {
      if (p.attributes.includes(lower)) out[key] = value;
    } else if (!p.excludedAttributes!.includes(lower)) out[key] = value;
  }
  return out;
}

export function listResponse(
  resources: ScimResource[],
  total: number,
  startIndex: number,
): Record<string, unknown> {
  return {
    schemas: [SCHEMAS.listResponse],
    totalResults: total,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}

/** `startIndex` (1-based, RFC 7644 §3.4.2.4; below 1 is 1) and `count` (0..MAX_COUNT). */
export function paging(query: { startIndex?: string; count?: string }): {
  startIndex: number;
  count: number;
} {
  const start = Number.parseInt(query.startIndex ?? '1', 10);
  const count = Number.parseInt(query.count ?? String(DEFAULT_COUNT), 10);
  return {
    startIndex: Number.isFinite(start) && start > 1 ? Math.min(start, 2_000_000_000) : 1,
    count: Number.isFinite(count) ? Math.max(0, Math.min(count, MAX_COUNT)) : DEFAULT_COUNT,
  };
}

// Discovery (RFC 7644 §4).

export function serviceProviderConfig(base: string): Record<string, unknown> {
  return {
    schemas: [SCHEMAS.serviceProviderConfig],
    documentationUri: `${base.replace(/\/scim\/v2$/, '')}/docs`,
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_COUNT },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description: 'A team SCIM token (scim_…) sent as Authorization: Bearer',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}

export function resourceTypes(base: string): Record<string, unknown>[] {
  return [
    {
      schemas: [SCHEMAS.resourceType],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'A member of the team',
      schema: SCHEMAS.user,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
    },
    {
      schemas: [SCHEMAS.resourceType],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'A group of the directory; the owner group makes its members owners',
      schema: SCHEMAS.group,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` },
    },
  ];
}

function attribute(
  name: string,
  extra: Partial<Record<string, unknown>> = {},
): Record<string, unknown> {
  return {
    name,
    type: 'string',
    multiValued: false,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...extra,
  };
}

export function schemas(base: string): Record<string, unknown>[] {
  return [
    {
      schemas: [SCHEMAS.schema],
      id: SCHEMAS.user,
      name: 'User',
      description: 'A member of the team, as the directory provisions them',
      attributes: [
        attribute('userName', {
          required: true,
          uniqueness: 'server',
          description: "The user's email address",
        }),
        attribute('externalId', { caseExact: true }),
        attribute('name', {
          type: 'complex',
          subAttributes: [
            attribute('givenName'),
            attribute('familyName'),
            attribute('formatted', { mutability: 'readOnly' }),
          ],
        }),
        attribute('displayName'),
        attribute('emails', {
          type: 'complex',
          multiValued: true,
          description: "The account's address (read from the account; changes are ignored)",
          subAttributes: [
            attribute('value'),
            attribute('type'),
            attribute('primary', { type: 'boolean' }),
          ],
        }),
        attribute('active', {
          type: 'boolean',
          description: "false removes the team membership and ends the user's sessions",
        }),
        attribute('groups', {
          type: 'complex',
          multiValued: true,
          mutability: 'readOnly',
          subAttributes: [
            attribute('value', { mutability: 'readOnly' }),
            attribute('display', { mutability: 'readOnly' }),
          ],
        }),
      ],
      meta: { resourceType: 'Schema', location: `${base}/Schemas/${SCHEMAS.user}` },
    },
    {
      schemas: [SCHEMAS.schema],
      id: SCHEMAS.group,
      name: 'Group',
      description: 'A group of the directory',
      attributes: [
        attribute('displayName', { required: true, uniqueness: 'server' }),
        attribute('externalId', { caseExact: true }),
        attribute('members', {
          type: 'complex',
          multiValued: true,
          subAttributes: [
            attribute('value', { mutability: 'immutable' }),
            attribute('display', { mutability: 'readOnly' }),
          ],
        }),
      ],
      meta: { resourceType: 'Schema', location: `${base}/Schemas/${SCHEMAS.group}` },
    },
  ];
}
