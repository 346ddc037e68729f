import { describe, expect, it } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import { isScimRequest, toScimErrorBody } from './scim-path.js';

const req = (url: string) => ({ url }) as IncomingMessage;

describe('the SCIM path and error shape', () => {
  it('recognises /scim/v2 and below, ignoring case, and nothing else', () => {
    for (const url of ['/scim/v2', '/scim/v2/Users', '/SCIM/V2/users?filter=x', '/scim/v2?x=1']) {
      expect({ url, scim: isScimRequest(req(url)) }).toEqual({ url, scim: true });
    }
    for (const url of ['/scim/v20', '/api/v1/scim/v2/Users', '/scim', '/admin']) {
      expect({ url, scim: isScimRequest(req(url)) }).toEqual({ url, scim: false });
    }
  });

  it('renders codes as RFC 7644 error bodies with their scimType', () => {
    const body = (statusCode: number, code: string) =>
      toScimErrorBody({ statusCode, error: 'x', code, message: 'why' });
    expect(body(400, 'scim.invalid_filter')).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '400',
      scimType: 'invalidFilter',
      detail: 'why',
    });
    expect(body(409, 'scim.uniqueness').scimType).toBe('uniqueness');
    expect(body(400, 'request.malformed_json').scimType).toBe('invalidSyntax');
    expect(body(400, 'request.invalid').scimType).toBe('invalidValue');
    // Codes that are no RFC scimType carry none.
    expect(body(403, 'scim.plan_limit_reached')).not.toHaveProperty('scimType');
    expect(body(401, 'scim.unauthorized')).not.toHaveProperty('scimType');
    expect(body(409, 'team.last_owner')).not.toHaveProperty('scimType');
  });
});
