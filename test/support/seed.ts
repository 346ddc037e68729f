import { createHttpAdapter } from '../../src/app.setup.js';
import { Test, type TestingModule } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import { AppModule } from '../../src/app.module.js';
import type { UserActor } from '../../src/common/auth/actor.js';
import { loadConfig } from '../../src/config/app-config.js';
import { DRIZZLE, type Database } from '../../src/database/database.tokens.js';
import { freshJobsSchema } from './app.js';
import {
  invitations,
  teamMembers,
  teams,
  users,
  type SystemRole,
} from '../../src/database/schema.js';

/** The password of every seeded user. */
export const SEED_PASSWORD = 'seeded password 1';
/**
 * Hashed once per worker with real but cheap argon2id parameters (the app verifies any argon2
 * hash by the parameters it carries), so a seed of many users costs one hash.
 */
let seedHash: Promise<string> | undefined;
function passwordHash(): Promise<string> {
  seedHash ??= argon2.hash(SEED_PASSWORD, {
    type: argon2.argon2id,
    memoryCost: 1024,
    timeCost: 1,
    parallelism: 1,
  });
  return seedHash;
}

export interface SeedUser {
  name?: string;
  /** Default: a unique address. */
  email?: string;
  role?: SystemRole;
  /** Default true. */
  verified?: boolean;
}
export interface SeedTeam {
  name?: string;
}
export interface SeedMember<U extends string, T extends string> {
  user: U;
  team: T;
  role: 'owner' | 'member';
}
export interface SeedInvitation<U extends string, T extends string> {
  team: T;
  /** The invitee's address, or the key of a seeded user (their address). */
  email: string;
  role?: 'owner' | 'member';
  invitedBy: U;
  status?: 'pending' | 'accepted' | 'declined' | 'revoked' | 'expired';
  invitedAt?: Date;
}
export interface SeedSpec<U extends string, T extends string, I extends string> {
  users?: Record<U, SeedUser>;
  teams?: Record<T, SeedTeam>;
  members?: SeedMember<NoInfer<U>, NoInfer<T>>[];
  invitations?: Record<I, SeedInvitation<NoInfer<U>, NoInfer<T>>>;
}
export interface Seeded<U extends string, T extends string, I extends string> {
  users: Record<U, typeof users.$inferSelect & { auth: UserActor }>;
  teams: Record<T, typeof teams.$inferSelect>;
  /** Membership rows by `${user}@${team}`. */
  members: Record<`${U}@${T}`, typeof teamMembers.$inferSelect>;
  invitations: Record<I, typeof invitations.$inferSelect>;
}

/**
 * Inserts users, teams, memberships and invitations in one transaction, straight through
 * Drizzle (no HTTP, no services), and returns the rows by the keys given.
 */
export async function seed<U extends string, T extends string, I extends string = never>(
  db: Database,
  spec: SeedSpec<U, T, I>,
): Promise<Seeded<U, T, I>> {
  const hash = await passwordHash();
  const tag = randomBytes(4).toString('hex');
  return db.transaction(async (tx) => {
    const out = { users: {}, teams: {}, members: {}, invitations: {} } as Seeded<U, T, I>;
    for (const [key, u] of Object.entries(spec.users ?? {}) as [U, SeedUser][]) {
      const [row] = await tx
        .insert(users)
        .values({
          name: u.name ?? key,
          email: u.email ?? `${key}-${Date.now().toString(36)}-${tag}@seed.test`,
          passwordHash: hash,
          role: u.role ?? 'member',
          emailVerifiedAt: u.verified === false ? null : new Date(),
        })
        .returning();
      if (!row) throw new Error(`seed: user ${key} not inserted`);
      out.users[key] = {
        ...row,
        auth: {
          kind: 'user',
          id: row.id,
          email: row.email,
          name: row.name,
          role: row.role as SystemRole,
          emailVerified: row.emailVerifiedAt !== null,
          locale: row.locale,
          sessionId: `seed-${tag}`,
          ip: '127.0.0.1',
        },
      };
    }
    for (const [key, t] of Object.entries(spec.teams ?? {}) as [T, SeedTeam][]) {
      const [row] = await tx
        .insert(teams)
        .values({ name: t.name ?? key })
        .returning();
      if (!row) throw new Error(`seed: team ${key} not inserted`);
      out.teams[key] = row;
    }
    for (const m of spec.members ?? []) {
      const [row] = await tx
        .insert(teamMembers)
        .values({ userId: out.users[m.user].id, teamId: out.teams[m.team].id, role: m.role })
        .returning();
      if (!row) throw new Error(`seed: membership ${m.user}@${m.team} not inserted`);
      out.members[`${m.user}@${m.team}`] = row;
    }
    for (const [key, i] of Object.entries(spec.invitations ?? {}) as [I, SeedInvitation<U, T>][]) {
      const email = (out.users as Record<string, { email: string }>)[i.email]?.email ?? i.email;
      const [row] = await tx
        .insert(invitations)
        .values({
          teamId: out.teams[i.team].id,
          email,
          role: i.role ?? 'member',
          invitedBy: out.users[i.invitedBy].id,
          status: i.status ?? 'pending',
          ...(i.invitedAt ? { invitedAt: i.invitedAt } : {}),
        })
        .returning();
      if (!row) throw new Error(`seed: invitation ${key} not inserted`);
      out.invitations[key] = row;
    }
    return out;
  });
}

export interface TestContext {
  moduleRef: TestingModule;
  db: Database;
  /** This context's job queue (JOBS_SCHEMA). */
  jobsSchema: string;
  get<T>(type: abstract new (...args: never[]) => T): T;
  close(): Promise<void>;
}

/**
 * The real AppModule as a Nest testing module whose HTTP server never listens: integration
 * tests call services directly, on the run's migrated test database.
 */
export async function createTestContext(
  env: Record<string, string | undefined> = {},
): Promise<TestContext> {
  const JOBS_SCHEMA = env.JOBS_SCHEMA ?? (await freshJobsSchema());
  const config = loadConfig({ ...process.env, ...env, JOBS_SCHEMA });
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.forRoot(config)],
  }).compile();
  // An application so that every init hook runs (the admin panel mounts on the adapter), but
  // it never listens: tests call services.
  const app = moduleRef.createNestApplication(createHttpAdapter(config), { logger: false });
  await app.init();
  return {
    moduleRef,
    db: moduleRef.get<Database>(DRIZZLE),
    jobsSchema: JOBS_SCHEMA,
    get: (type) => moduleRef.get(type as never),
    close: () => app.close(),
  };
}
