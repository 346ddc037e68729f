import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq, inArray, sql } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  emailVerificationTokens,
  invitations,
  passwordResetTokens,
  sessions,
  webhookDeliveries,
  webhookEndpoints,
  webhookEvents,
} from '../../src/database/schema.js';
import {
  AUTH_HOUSEKEEPING_JOB,
  AuthHousekeeping,
} from '../../src/modules/auth/auth-housekeeping.js';
import {
  INVITATIONS_HOUSEKEEPING_JOB,
  InvitationsHousekeeping,
} from '../../src/modules/invitations/invitations-housekeeping.js';
import { HOUSEKEEPING_CRON } from '../../src/modules/jobs/housekeeping.js';
import { JobsService } from '../../src/modules/jobs/jobs.service.js';
import {
  WEBHOOKS_SWEEP_JOB,
  WebhookDeliveryWorker,
} from '../../src/modules/webhooks/webhook-delivery.worker.js';
import { createTestContext, seed, type TestContext } from '../support/seed.js';

/**
 * The housekeeping jobs on the real database. They run at a `now` in 2001 over rows dated
 * around it, so rows of suites running in parallel (dated today) are never in their way.
 */
let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});

afterAll(async () => {
  await ctx?.close();
});

const NOW = new Date('2001-01-01T00:00:00Z');
const BEFORE = new Date('2000-12-31T23:00:00Z');
const AFTER = new Date('2001-01-01T01:00:00Z');
const hash = () => randomBytes(16).toString('hex');

describe('housekeeping', () => {
  it('deletes expired sessions and links, and keeps the ones still valid', async () => {
    const s = await seed(ctx.db, { users: { u: {} } });
    const userId = s.users.u.id;
    const [expiredSession, liveSession] = await ctx.db
      .insert(sessions)
      .values([
        { userId, refreshTokenHash: hash(), expiresAt: BEFORE },
        { userId, refreshTokenHash: hash(), expiresAt: AFTER },
      ])
      .returning();
    const resets = await ctx.db
      .insert(passwordResetTokens)
      .values([
        { userId, tokenHash: hash(), expiresAt: BEFORE, usedAt: BEFORE },
        { userId, tokenHash: hash(), expiresAt: AFTER },
      ])
      .returning();
    const links = await ctx.db
      .insert(emailVerificationTokens)
      .values([
        { userId, email: s.users.u.email, tokenHash: hash(), expiresAt: BEFORE },
        { userId, email: s.users.u.email, tokenHash: hash(), expiresAt: AFTER },
      ])
      .returning();

    const result = await ctx.get(AuthHousekeeping).run(NOW);
    expect(result.sessions).toBeGreaterThanOrEqual(1);

    const sessionIds = (
      await ctx.db
        .select({ id: sessions.id })
        .from(sessions)
        .where(inArray(sessions.id, [expiredSession!.id, liveSession!.id]))
    ).map((r) => r.id);
    expect(sessionIds).toEqual([liveSession!.id]);
    const resetIds = (
      await ctx.db
        .select({ id: passwordResetTokens.id })
        .from(passwordResetTokens)
        .where(eq(passwordResetTokens.userId, userId))
    ).map((r) => r.id);
    expect(resetIds).toEqual([resets[1]!.id]);
    const linkIds = (
      await ctx.db
        .select({ id: emailVerificationTokens.id })
        .from(emailVerificationTokens)
        .where(eq(emailVerificationTokens.userId, userId))
    ).map((r) => r.id);
    expect(linkIds).toEqual([links[1]!.id]);
  });

  it('marks pending invitations past their 7 days expired, and only those', async () => {
    const s = await seed(ctx.db, {
      users: { owner: {} },
      teams: { t: {} },
      members: [{ user: 'owner', team: 't', role: 'owner' }],
      invitations: {
        old: {
          team: 't',
          email: 'old@example.test',
          invitedBy: 'owner',
          invitedAt: new Date('2000-12-24T00:00:00Z'),
        },
        recent: {
          team: 't',
          email: 'recent@example.test',
          invitedBy: 'owner',
          invitedAt: new Date('2000-12-26T00:00:00Z'),
        },
        answered: {
          team: 't',
          email: 'answered@example.test',
          invitedBy: 'owner',
          invitedAt: new Date('2000-12-01T00:00:00Z'),
          status: 'declined',
        },
      },
    });
    expect(await ctx.get(InvitationsHousekeeping).run(NOW)).toBeGreaterThanOrEqual(1);
    const statuses = Object.fromEntries(
      (
        await ctx.db
          .select({ email: invitations.email, status: invitations.status })
          .from(invitations)
          .where(eq(invitations.teamId, s.teams.t.id))
      ).map((r) => [r.email, r.status]),
    );
    expect(statuses).toEqual({
      'old@example.test': 'expired',
      'recent@example.test': 'pending',
      'answered@example.test': 'declined',
    });
  });

  it('wakes a webhook endpoint whose due delivery lost its wake-up, and only such one', async () => {
    const s = await seed(ctx.db, { teams: { t: {} } });
    const teamId = s.teams.t.id;
    // A secret that cannot be unsealed fails the first attempt at once: it shows the attempt
    // happened, without any network.
    const [endpoint] = await ctx.db
      .insert(webhookEndpoints)
      .values({
        teamId,
        url: 'http://stranded.example.test/',
        events: ['team.updated'],
        secret: 'x',
      })
      .returning();
    const eventId = `evt_${hash()}`;
    await ctx.db
      .insert(webhookEvents)
      .values({ id: eventId, teamId, type: 'team.updated', payload: {}, createdAt: BEFORE });
    const [stranded] = await ctx.db
      .insert(webhookDeliveries)
      .values({ endpointId: endpoint!.id, eventId, nextAttemptAt: BEFORE })
      .returning();

    const webhooks = ctx.get(WebhookDeliveryWorker);
    // Due only 5 minutes before `now`: not stranded yet.
    expect(await webhooks.wakeStranded(new Date(BEFORE.getTime() + 5 * 60_000))).toBe(0);
    expect(await webhooks.wakeStranded(NOW)).toBe(1);
    const deadline = Date.now() + 15_000;
    let row = stranded;
    while (row?.status === 'pending' && Date.now() < deadline) {
      await sleep(100);
      [row] = await ctx.db
        .select()
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.id, stranded!.id));
    }
    expect(row).toMatchObject({ status: 'failed', attempts: 1 });
    expect(row?.lastError).toMatch(/^the signing secret cannot be read/);
  });

  it('is scheduled hourly in the queue, and a queued run completes through the worker', async () => {
    const jobs = ctx.get(JobsService);
    const schema = sql.identifier(ctx.jobsSchema);
    const schedules = await ctx.db.execute<{ name: string; cron: string }>(
      sql`select name, cron from ${schema}.schedule order by name`,
    );
    expect(schedules.rows).toEqual([
      { name: AUTH_HOUSEKEEPING_JOB, cron: HOUSEKEEPING_CRON },
      { name: INVITATIONS_HOUSEKEEPING_JOB, cron: HOUSEKEEPING_CRON },
      { name: WEBHOOKS_SWEEP_JOB, cron: HOUSEKEEPING_CRON },
    ]);
    const id = await jobs.enqueue(INVITATIONS_HOUSEKEEPING_JOB, {});
    const deadline = Date.now() + 25_000;
    let state: string | undefined;
    while (Date.now() < deadline) {
      state = (await jobs.find(INVITATIONS_HOUSEKEEPING_JOB, id ?? ''))?.state;
      if (state === 'completed' || state === 'failed') break;
      await sleep(200);
    }
    expect(state).toBe('completed');
  });
});
