import { describe, expect, it } from '@jest/globals';
import { deletedEmail } from './account.service.js';
import { defaultTeamName } from './auth.service.js';

describe('account naming rules', () => {
  it('names the sign-up team "<email>\'s Team"', () => {
    expect(defaultTeamName('ada@example.com')).toBe("ada@example.com's Team");
  });

  it('shortens the team name to fit teams.name (100)', () => {
    const email = `${'a'.repeat(240)}@example.com`;
    const name = defaultTeamName(email);
    expect(name).toHaveLength(100);
    expect(name.endsWith("'s Team")).toBe(true);
  });

  it('rewrites a deleted email to a unique, undeliverable address within varchar(255)', () => {
    const a = deletedEmail(2_147_483_647);
    expect(a).toMatch(/^deleted\+2147483647\+[0-9a-f]{12}@deleted\.invalid$/);
    expect(a.length).toBeLessThanOrEqual(255);
    expect(deletedEmail(1)).not.toBe(deletedEmail(1));
  });
});
