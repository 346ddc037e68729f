import { count } from 'drizzle-orm';
import { normalizeEmail } from '../common/email.js';
import type { Database } from './database.tokens.js';
import { ActivityType, activityLogs, teamMembers, teams, users } from './schema.js';

/** What the seed needs of a password hasher (the app's PasswordHasher, built at the boot edge). */
export interface Hasher {
  hash(password: string): Promise<string>;
}

export const DEMO_OWNER = {
  email: 'test@test.com',
  password: 'admin123',
  team: 'Test Team',
} as const;
export const DEMO_ADMIN = { email: 'admin@test.com', password: 'admin123' } as const;
/** Read-only back-office staff (system role `support`). */
export const DEMO_SUPPORT = { email: 'support@test.com', password: 'admin123' } as const;

/**
 * Seeds the demo owner with "Test Team", the back-office admin and a support user, only into an empty
 * database (no users). Returns whether it seeded. Runs in one transaction.
 */
export async function seedDemoData(db: Database, hasher: Hasher): Promise<boolean> {
  const [ownerHash, adminHash, supportHash] = await Promise.all([
    hasher.hash(DEMO_OWNER.password),
    hasher.hash(DEMO_ADMIN.password),
    hasher.hash(DEMO_SUPPORT.password),
  ]);
  return db.transaction(async (tx) => {
    // Serialise concurrent first starts; the loser sees the winner's users.
    await tx.execute('lock table users in share row exclusive mode');
    const [row] = await tx.select({ n: count() }).from(users);
    if ((row?.n ?? 0) > 0) return false;
    // Demo accounts are verified, so they work under EMAIL_VERIFICATION=required too. Their
    // addresses go through the same rule as every other address (src/common/email.ts).
    const emailVerifiedAt = new Date();
    const [owner] = await tx
      .insert(users)
      .values({
        email: normalizeEmail(DEMO_OWNER.email),
        name: 'Test Owner',
        passwordHash: ownerHash,
        emailVerifiedAt,
      })
      .returning({ id: users.id });
    await tx.insert(users).values([
      {
        email: normalizeEmail(DEMO_ADMIN.email),
        name: 'Back Office',
        passwordHash: adminHash,
        role: 'admin',
        emailVerifiedAt,
      },
      {
        email: normalizeEmail(DEMO_SUPPORT.email),
        name: 'Support Desk',
        passwordHash: supportHash,
        role: 'support',
        emailVerifiedAt,
      },
    ]);
    const [team] = await tx
      .insert(teams)
      .values({ name: DEMO_OWNER.team })
      .returning({ id: teams.id });
    if (!owner || !team) throw new Error('demo seed: insert returned no row');
    await tx.insert(teamMembers).values({ userId: owner.id, teamId: team.id, role: 'owner' });
    await tx.insert(activityLogs).values([
      { teamId: team.id, userId: owner.id, action: ActivityType.SIGN_UP },
      { teamId: team.id, userId: owner.id, action: ActivityType.CREATE_TEAM },
    ]);
    return true;
  });
}
