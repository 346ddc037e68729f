import { describe, expect, it } from '@jest/globals';
import { apiKeyAccess } from './api-key-access.js';

describe('apiKeyAccess (what a team API key may do on a team route)', () => {
  const key = { teamId: 7, scopes: ['team:read', 'invitations:write'] as const };

  it('allows its own team within its scopes', () => {
    expect(apiKeyAccess(key, 7, 'team:read')).toBe('allowed');
    expect(apiKeyAccess(key, 7, 'invitations:write')).toBe('allowed');
  });

  it('refuses a scope it does not carry', () => {
    expect(apiKeyAccess(key, 7, 'members:write')).toBe('scope_missing');
    expect(apiKeyAccess(key, 7, 'activity:read')).toBe('scope_missing');
  });

  it('answers not_found for another team, whatever the scope', () => {
    expect(apiKeyAccess(key, 8, 'team:read')).toBe('not_found');
    expect(apiKeyAccess(key, 8, 'members:write')).toBe('not_found');
  });

  it('never accepts a key on a route that names no scope', () => {
    expect(apiKeyAccess(key, 7, undefined)).toBe('not_accepted');
    expect(apiKeyAccess(key, 8, undefined)).toBe('not_accepted');
  });
});
