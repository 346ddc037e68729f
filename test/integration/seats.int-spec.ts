import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import Stripe from 'stripe';
import { teamMembers, teams, users } from '../../src/database/schema.js';
import { TransactionHost } from '../../src/database/transaction-host.js';
import { SeatSyncWorker } from '../../src/modules/billing/seat-sync.worker.js';
import { seatIdempotencyKey } from '../../src/modules/billing/seats.js';
import { stripeOptions } from '../../src/modules/billing/stripe.client.js';
import { TeamsService } from '../../src/modules/teams/teams.service.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import {
  FAKE_STRIPE_SECRET_KEY,
  FAKE_WEBHOOK_SECRET,
  startFakeStripe,
  type FakeStripe,
} from '../support/fake-stripe.js';

type Json = Record<string, unknown>;

describe('seats: a per-seat subscription follows the member count (job queue, Stripe fake)', () => {
  let fake: FakeStripe;
  let t: TestApp;
  let stripe: Stripe;
  let txHost: TransactionHost;
  let teamsService: TeamsService;
  let worker: SeatSyncWorker;
  let perSeatPrice: string;

  beforeAll(async () => {
    fake = await startFakeStripe();
    perSeatPrice = fake.createPlan({ name: 'Team', amount: 900, perSeat: true }).price.id as string;
    t = await createTestApp({
      env: {
        STRIPE_SECRET_KEY: FAKE_STRIPE_SECRET_KEY,
        STRIPE_WEBHOOK_SECRET: FAKE_WEBHOOK_SECRET,
        STRIPE_API_URL: fake.url,
      },
    });
    stripe = new Stripe(FAKE_STRIPE_SECRET_KEY, stripeOptions(new URL(fake.url)));
    txHost = t.app.get(TransactionHost);
    teamsService = t.app.get(TeamsService);
    worker = t.app.get(SeatSyncWorker);
  });

  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  async function user() {
    const [row] = await t.db
      .insert(users)
      .values({ email: uniqueEmail('seat'), passwordHash: 'x' })
      .returning();
    return row!;
  }

  /**
   * A team with an owner and an active per-seat subscription billed for one seat, its columns
   * as the subscription sync leaves them (perSeat, the item, a confirmed quantity of 1).
   */
  async function perSeatTeam() {
    const owner = await user();
    const customer = await stripe.customers.create({ name: 'Seats' });
    const subscription = fake.createSubscription(customer.id, perSeatPrice, 'active', 1);
    const item = (subscription.items as { data: Json[] }).data[0]!;
    const [team] = await t.db
      .insert(teams)
      .values({
        name: 'Seats',
        stripeCustomerId: customer.id,
        stripeSubscriptionId: subscription.id as string,
        subscriptionStatus: 'active',
        perSeat: true,
        stripeSubscriptionItemId: item.id as string,
        seatsBilled: 1,
        seatsBilledVersion: 0,
      })
      .returning();
    await t.db.insert(teamMembers).values({ teamId: team!.id, userId: owner.id, role: 'owner' });
    return { team: team!, item, itemId: item.id as string };
  }

  const join = (teamId: number, userId: number) =>
    txHost.transaction(() => teamsService.join(teamId, userId, 'member'));

  const teamRow = async (id: number) =>
    (await t.db.select().from(teams).where(eq(teams.id, id)))[0]!;
  const memberCount = async (teamId: number) =>
    (await t.db.select().from(teamMembers).where(eq(teamMembers.teamId, teamId))).length;
  const updates = (itemId: string) =>
    fake.requests.filter(
      (r) => r.method === 'POST' && r.path === `/v1/subscription_items/${itemId}`,
    );

  /** Waits until Stripe confirmed the team's current membership version (the jobs ran). */
  async function converged(teamId: number, timeoutMs = 30_000) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const team = await teamRow(teamId);
      if (team.seatsBilledVersion === team.membershipVersion) return team;
      if (Date.now() > until) {
        throw new Error(
          `seat sync did not converge: version ${team.membershipVersion}, billed ${String(team.seatsBilledVersion)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('concurrent joins end with one quantity equal to the member count, at Stripe and on the team', async () => {
    const { team, item, itemId } = await perSeatTeam();
    const joiners = await Promise.all(Array.from({ length: 8 }, () => user()));
    await Promise.all(joiners.map((u) => join(team.id, u.id)));

    const row = await converged(team.id);
    expect(row.membershipVersion).toBe(8);
    expect(await memberCount(team.id)).toBe(9);
    expect(item.quantity).toBe(9);
    expect(row.seatsBilled).toBe(9);

    const sent = updates(itemId).filter((r) => r.failedWith === undefined);
    expect(sent.length).toBeGreaterThan(0);
    // Every update prorates and carries the key of the version whose count it sent; the last
    // one sent the final count.
    for (const request of sent) {
      expect(request.params).toMatchObject({ proration_behavior: 'create_prorations' });
      expect(request.idempotencyKey).toMatch(
        new RegExp(`^nest-saas:seats:${team.id}:${itemId}:v\\d+$`),
      );
    }
    expect(sent.at(-1)!.params.quantity).toBe('9');
    expect(sent.at(-1)!.idempotencyKey).toBe(seatIdempotencyKey(team.id, itemId, 8));
    // Versions reach Stripe in order: a later job never sends an older count.
    const versions = sent.map((r) => Number(/:v(\d+)$/.exec(r.idempotencyKey!)![1]));
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
  });

  it('joins and removals racing: the latest count wins', async () => {
    const { team, item } = await perSeatTeam();
    const people = await Promise.all(Array.from({ length: 6 }, () => user()));
    for (const u of people.slice(0, 3)) await join(team.id, u.id);
    const leaving = await t.db.select().from(teamMembers).where(eq(teamMembers.teamId, team.id));
    const toRemove = leaving.filter((m) => m.role === 'member').slice(0, 2);
    await Promise.all([
      ...people.slice(3).map((u) => join(team.id, u.id)),
      ...toRemove.map((m) =>
        txHost.transaction(() => teamsService.removeAllMembershipsOf(m.userId)),
      ),
    ]);
    const row = await converged(team.id);
    expect(await memberCount(team.id)).toBe(1 + 6 - 2);
    expect(item.quantity).toBe(5);
    expect(row.seatsBilled).toBe(5);
  });

  it('a failed Stripe call is retried by the queue and the quantity converges', async () => {
    const { team, item, itemId } = await perSeatTeam();
    // The SDK tries 3 times (maxNetworkRetries 2): all fail, so the one job fails; only the
    // queue's retry of that job can bring the count to Stripe.
    fake.failNext('POST', `/v1/subscription_items/${itemId}`, { times: 3, with: 500 });
    await join(team.id, (await user()).id);

    const row = await converged(team.id, 45_000);
    expect(item.quantity).toBe(2);
    expect(row.seatsBilled).toBe(2);
    const attempts = updates(itemId);
    expect(attempts.map((r) => r.failedWith ?? 'ok')).toEqual([500, 500, 500, 'ok']);
    // Every attempt, the SDK's and the queue's, carried the one key of this version.
    expect(new Set(attempts.map((r) => r.idempotencyKey))).toEqual(
      new Set([seatIdempotencyKey(team.id, itemId, 1)]),
    );
  }, 60_000);

  it('a version already confirmed is not sent again; a retry with the same version replays', async () => {
    const { team, itemId } = await perSeatTeam();
    await join(team.id, (await user()).id);
    await converged(team.id);
    const before = updates(itemId).length;
    expect(await worker.sync(team.id)).toEqual({ send: false, reason: 'already_confirmed' });
    expect(updates(itemId)).toHaveLength(before);

    // As if the answer of the confirmed call was lost: the retry carries the same key and
    // quantity, and Stripe replays its first answer instead of applying it twice.
    await t.db.update(teams).set({ seatsBilledVersion: null }).where(eq(teams.id, team.id));
    const decision = await worker.sync(team.id);
    expect(decision).toEqual({ send: true, itemId, quantity: 2, version: 1 });
    const last = updates(itemId).at(-1)!;
    expect(last.idempotencyKey).toBe(seatIdempotencyKey(team.id, itemId, 1));
    expect(last.replayed).toBe(true);
  });

  it('a team not billed per seat queues nothing and leaves Stripe alone', async () => {
    const { team, itemId } = await perSeatTeam();
    await t.db.update(teams).set({ perSeat: false }).where(eq(teams.id, team.id));
    await join(team.id, (await user()).id);
    const row = await teamRow(team.id);
    expect(row.membershipVersion).toBe(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(updates(itemId)).toHaveLength(0);
    expect((await teamRow(team.id)).seatsBilled).toBe(1);
  });
});
