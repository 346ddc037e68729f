import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import { webhookDeliveries } from '../../src/database/schema.js';
import { createTestApp, freshJobsSchema, type TestApp } from '../support/app.js';
import { bearer, signUpVerified, type SignedUp } from '../support/auth.js';
import { expect429 } from '../support/rate-limit.js';
import {
  startWebhookReceiver,
  waitFor,
  type WebhookReceiver,
} from '../support/webhook-receiver.js';

async function createWebhook(t: TestApp, who: SignedUp, url: string): Promise<number> {
  const res = await t.http
    .post(`/api/v1/teams/${who.team.id}/webhooks`)
    .set('Authorization', bearer(who.accessToken))
    .send({ url, events: ['team.updated'] });
  expect(res.status).toBe(201);
  return res.body.id as number;
}

function rename(t: TestApp, who: SignedUp, name: string) {
  // Unchecked: the 429 of the rate-limit test is checked against the contract separately.
  return t.unchecked
    .patch(`/api/v1/teams/${who.team.id}`)
    .set('Authorization', bearer(who.accessToken))
    .send({ name });
}

describe('webhook delivery: one slow endpoint does not stall the others (e2e)', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    // The contract's 10 s per-delivery timeout: the held request outlives the whole test.
    t = await createTestApp({ env: { WEBHOOKS_ALLOW_PRIVATE: 'true' } });
  });

  afterAll(async () => {
    // Closing the receiver first ends the held request, so shutdown does not wait for it.
    await receiver.close();
    await t.close();
  });

  it("a receiver that never answers, fed 40 events, does not delay another team's delivery", async () => {
    const stuck = await signUpVerified(t, { name: 'Stuck' });
    const prompt = await signUpVerified(t, { name: 'Prompt' });
    receiver.hold('/stuck');
    await createWebhook(t, stuck, receiver.url('/stuck'));
    await createWebhook(t, prompt, receiver.url('/prompt'));

    for (let i = 1; i <= 40; i++) expect((await rename(t, stuck, `Stuck ${i}`)).status).toBe(200);
    await waitFor(() => receiver.on('/stuck').length > 0, 'the first (held) request');

    expect((await rename(t, prompt, 'Prompt renamed')).status).toBe(200);
    const started = Date.now();
    await waitFor(() => receiver.on('/prompt').length > 0, "the other team's delivery", 2000);
    expect(Date.now() - started).toBeLessThan(2000);
    // One attempt at a time per endpoint: the held request is the only one it got.
    expect(receiver.on('/stuck')).toHaveLength(1);
  }, 30_000);
});

describe('webhook delivery: an endpoint that keeps failing backs off (e2e)', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startWebhookReceiver(500);
    // Paused 1 s after the first failure in a row, 10 min after the second.
    t = await createTestApp({
      env: { WEBHOOKS_ALLOW_PRIVATE: 'true', WEBHOOKS_RETRY_DELAYS_SECONDS: '1,600' },
    });
  });

  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  it('is paused for the delay at its failure streak; its other deliveries wait, no attempt spent', async () => {
    const owner = await signUpVerified(t, { name: 'Failing' });
    const webhookId = await createWebhook(t, owner, receiver.url('/failing'));
    for (let i = 1; i <= 3; i++) expect((await rename(t, owner, `Failing ${i}`)).status).toBe(200);

    const log = await waitFor(async () => {
      const res = await t.http
        .get(`/api/v1/teams/${owner.team.id}/webhooks/${webhookId}/deliveries`)
        .set('Authorization', bearer(owner.accessToken));
      const items = (res.body as { items: { attempts: number; status: string }[] }).items;
      return items.filter((d) => d.attempts > 0).length >= 2 && items;
    }, 'two failed attempts');
    // Oldest first: the first two events were tried once each (1 s apart), the third waits.
    expect(log.map((d) => [d.status, d.attempts])).toEqual([
      ['pending', 0],
      ['pending', 1],
      ['pending', 1],
    ]);
    expect(receiver.on('/failing')).toHaveLength(2);
  });
});

describe('webhook delivery: two workers on one queue (e2e)', () => {
  let a: TestApp;
  let b: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    const env = { WEBHOOKS_ALLOW_PRIVATE: 'true', JOBS_SCHEMA: await freshJobsSchema() };
    a = await createTestApp({ env });
    b = await createTestApp({ env });
  });

  afterAll(async () => {
    await a.close();
    await b.close();
    await receiver.close();
  });

  it('sends each event once, one request at a time per endpoint, in order', async () => {
    const owner = await signUpVerified(a);
    receiver.delay('/slow', 150);
    const webhookId = await createWebhook(a, owner, receiver.url('/slow'));
    const total = 12;
    for (let i = 1; i <= total; i++) {
      expect((await rename(i % 2 === 0 ? a : b, owner, `Slow ${i}`)).status).toBe(200);
    }
    await waitFor(async () => {
      const rows = await a.db
        .select()
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.endpointId, webhookId));
      return rows.length === total && rows.every((row) => row.status === 'succeeded');
    }, 'every delivery to succeed');
    const requests = receiver.on('/slow');
    expect(requests).toHaveLength(total);
    expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(total);
    expect(receiver.peakConcurrency('/slow')).toBe(1);
    // Events reach the endpoint in the order they happened.
    const names = requests.map((r) => (JSON.parse(r.body) as { data: { name: string } }).data.name);
    expect(names).toEqual(Array.from({ length: total }, (_, i) => `Slow ${i + 1}`));
  }, 60_000);
});

describe('webhook events: rate limited per team (e2e)', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    t = await createTestApp({
      env: { WEBHOOKS_ALLOW_PRIVATE: 'true', WEBHOOKS_EVENT_RATE_LIMIT: '3' },
    });
  });

  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  it('a change past WEBHOOKS_EVENT_RATE_LIMIT events a minute answers 429 and is not made', async () => {
    const busy = await signUpVerified(t, { name: 'Busy' });
    const other = await signUpVerified(t, { name: 'Other' });
    const webhookId = await createWebhook(t, busy, receiver.url('/busy'));
    await createWebhook(t, other, receiver.url('/other'));

    for (let i = 1; i <= 3; i++) expect((await rename(t, busy, `Busy ${i}`)).status).toBe(200);
    const refused = await t.http
      .patch(`/api/v1/teams/${busy.team.id}`)
      .set('Authorization', bearer(busy.accessToken))
      .send({ name: 'Busy 4' });
    expect429(refused);

    // Refused as a whole: the name did not change and no fourth event was stored.
    const team = await t.http
      .get(`/api/v1/teams/${busy.team.id}`)
      .set('Authorization', bearer(busy.accessToken));
    expect(team.body.name).toBe('Busy 3');
    const rows = await t.db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.endpointId, webhookId));
    expect(rows).toHaveLength(3);

    // Another team's counter is its own.
    expect((await rename(t, other, 'Other 1')).status).toBe(200);
  });

  it("members joining or leaving are never refused by the team's event limit", async () => {
    const busy = await signUpVerified(t, { name: 'Busy owner' });
    const joiner = await signUpVerified(t, { name: 'Joiner' });
    const res = await t.http
      .post(`/api/v1/teams/${busy.team.id}/webhooks`)
      .set('Authorization', bearer(busy.accessToken))
      .send({
        url: receiver.url('/members'),
        events: ['team.updated', 'member.added', 'member.removed', 'invitation.accepted'],
      });
    expect(res.status).toBe(201);
    const invited = await t.http
      .post(`/api/v1/teams/${busy.team.id}/invitations`)
      .set('Authorization', bearer(busy.accessToken))
      .send({ email: joiner.email, role: 'member' })
      .expect(201);
    // The owner's own changes use up the team's budget...
    for (let i = 1; i <= 3; i++) expect((await rename(t, busy, `Busy ${i}`)).status).toBe(200);
    expect429(await rename(t, busy, 'Busy 4'));
    // ...but an invitee accepting and a member leaving are not the team's doing: they happen,
    // and their events are still stored.
    await t.http
      .post(`/api/v1/invitations/${invited.body.id}/accept`)
      .set('Authorization', bearer(joiner.accessToken))
      .expect(200);
    const team = await t.http
      .get(`/api/v1/teams/${busy.team.id}`)
      .set('Authorization', bearer(joiner.accessToken))
      .expect(200);
    const membership = (team.body.teamMembers as { id: number; userId: number }[]).find(
      (m) => m.userId === joiner.user.id,
    );
    await t.http
      .delete(`/api/v1/teams/${busy.team.id}/members/${membership!.id}`)
      .set('Authorization', bearer(joiner.accessToken))
      .expect(204);
    const rows = await t.db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.endpointId, res.body.id as number));
    // 3 renames + member.added + invitation.accepted + member.removed.
    expect(rows).toHaveLength(6);
  });

  it('a team without endpoints produces no events and is not limited', async () => {
    const quiet = await signUpVerified(t, { name: 'Quiet' });
    for (let i = 1; i <= 5; i++) expect((await rename(t, quiet, `Quiet ${i}`)).status).toBe(200);
  });
});
