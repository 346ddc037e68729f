import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, asc, eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import {
  activityLogs,
  webhookDeliveries,
  webhookEndpoints,
  webhookEvents,
} from '../../src/database/schema.js';
import { TransactionHost } from '../../src/database/transaction-host.js';
import { WebhooksService } from '../../src/modules/webhooks/webhooks.service.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, signUpVerified, type SignedUp } from '../support/auth.js';
import {
  startWebhookReceiver,
  waitFor,
  type ReceivedWebhook,
  type WebhookReceiver,
} from '../support/webhook-receiver.js';

interface Delivery {
  id: number;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
}

interface Payload {
  id: string;
  type: string;
  createdAt: string;
  teamId: number;
  data: Record<string, unknown>;
}

describe('outgoing webhooks (e2e)', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let owner: SignedUp;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    // Two retries, one second apart: the whole schedule runs within the test.
    t = await createTestApp({
      env: { WEBHOOKS_ALLOW_PRIVATE: 'true', WEBHOOKS_RETRY_DELAYS_SECONDS: '1,1' },
    });
    owner = await signUpVerified(t, { name: 'Owner' });
  });

  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  async function createWebhook(
    who: SignedUp,
    path: string,
    events: string[] = ['team.updated'],
  ): Promise<{ id: number; secret: string }> {
    const res = await t.http
      .post(`/api/v1/teams/${who.team.id}/webhooks`)
      .set('Authorization', bearer(who.accessToken))
      .send({ url: receiver.url(path), events, description: `hook ${path}` });
    expect(res.status).toBe(201);
    return res.body as { id: number; secret: string };
  }

  async function renameTeam(who: SignedUp, name: string): Promise<void> {
    const res = await t.http
      .patch(`/api/v1/teams/${who.team.id}`)
      .set('Authorization', bearer(who.accessToken))
      .send({ name });
    expect(res.status).toBe(200);
  }

  async function deliveries(who: SignedUp, webhookId: number): Promise<Delivery[]> {
    const res = await t.http
      .get(`/api/v1/teams/${who.team.id}/webhooks/${webhookId}/deliveries`)
      .set('Authorization', bearer(who.accessToken));
    expect(res.status).toBe(200);
    return (res.body as { items: Delivery[] }).items;
  }

  function verified(secret: string, request: ReceivedWebhook): Payload {
    return new Webhook(secret).verify(request.body, request.headers) as Payload;
  }

  it('creates an endpoint (secret shown once), lists it without the secret, logs CREATE_WEBHOOK', async () => {
    const created = await t.http
      .post(`/api/v1/teams/${owner.team.id}/webhooks`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ url: receiver.url('/created'), events: ['member.added', 'team.updated'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      url: receiver.url('/created'),
      events: ['member.added', 'team.updated'],
      enabled: true,
      description: null,
    });
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);

    const list = await t.http
      .get(`/api/v1/teams/${owner.team.id}/webhooks`)
      .set('Authorization', bearer(owner.accessToken));
    expect(list.status).toBe(200);
    const item = (list.body.items as Record<string, unknown>[]).find(
      (w) => w.id === created.body.id,
    );
    expect(item).toBeDefined();
    expect(item).not.toHaveProperty('secret');
    expect(JSON.stringify(list.body)).not.toContain('whsec_');

    // Stored sealed, not in clear.
    const [row] = await t.db
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.id, created.body.id as number));
    expect(row!.secret).not.toContain((created.body.secret as string).slice(6));

    const actions = await t.db
      .select({ action: activityLogs.action })
      .from(activityLogs)
      .where(eq(activityLogs.teamId, owner.team.id));
    expect(actions.map((a) => a.action)).toContain('CREATE_WEBHOOK');

    const removed = await t.http
      .delete(`/api/v1/teams/${owner.team.id}/webhooks/${created.body.id}`)
      .set('Authorization', bearer(owner.accessToken));
    expect(removed.status).toBe(204);
  });

  it('a team rename is delivered as team.updated, signed per Standard Webhooks', async () => {
    const hook = await createWebhook(owner, '/renamed');
    await renameTeam(owner, 'Renamed Team');
    const [request] = await waitFor(
      () => receiver.on('/renamed').length > 0 && receiver.on('/renamed'),
      'team.updated',
    );
    const payload = verified(hook.secret, request!);
    expect(payload).toMatchObject({
      type: 'team.updated',
      teamId: owner.team.id,
      data: { id: owner.team.id, name: 'Renamed Team' },
    });
    expect(payload.id).toMatch(/^evt_/);
    expect(request!.headers['webhook-id']).toBe(payload.id);
    expect(request!.headers['content-type']).toBe('application/json');
    // Another secret does not verify it.
    const other = await createWebhook(owner, '/other', ['member.removed']);
    expect(() => verified(other.secret, request!)).toThrow();

    const log = await waitFor(async () => {
      const items = await deliveries(owner, hook.id);
      return items[0]?.status === 'succeeded' && items;
    }, 'the delivery to be marked succeeded');
    expect(log).toEqual([
      expect.objectContaining({
        eventId: payload.id,
        eventType: 'team.updated',
        status: 'succeeded',
        attempts: 1,
        lastStatusCode: 200,
        lastError: null,
        nextAttemptAt: null,
      }),
    ]);
  });

  it('retries after a 500 with the same webhook-id, and the log shows the attempts', async () => {
    const hook = await createWebhook(owner, '/flaky');
    receiver.answer('/flaky', 500);
    await renameTeam(owner, 'Flaky Team');
    const requests = await waitFor(
      () => receiver.on('/flaky').length >= 2 && receiver.on('/flaky'),
      'the retry',
    );
    expect(requests).toHaveLength(2);
    const [first, second] = requests as [ReceivedWebhook, ReceivedWebhook];
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(second.body).toBe(first.body);
    expect(verified(hook.secret, second).type).toBe('team.updated');

    const [delivery] = await waitFor(async () => {
      const items = await deliveries(owner, hook.id);
      return items[0]?.status === 'succeeded' && items;
    }, 'success after the retry');
    expect(delivery).toMatchObject({ attempts: 2, lastStatusCode: 200, status: 'succeeded' });
    const [stored] = await t.db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.id, delivery!.id));
    expect(stored!.lastResponseExcerpt).toBe('answered 200');
  });

  it('fails after the last retry; a redelivery sends the same event again', async () => {
    const hook = await createWebhook(owner, '/down');
    receiver.answer('/down', 500, 503, 502);
    await renameTeam(owner, 'Down Team');
    const [failed] = await waitFor(async () => {
      const items = await deliveries(owner, hook.id);
      return items[0]?.status === 'failed' && items;
    }, 'the delivery to fail');
    expect(failed).toMatchObject({
      status: 'failed',
      attempts: 3,
      lastStatusCode: 502,
      lastError: 'HTTP 502',
      nextAttemptAt: null,
    });
    expect(receiver.on('/down')).toHaveLength(3);

    const redeliver = await t.http
      .post(`/api/v1/teams/${owner.team.id}/webhooks/${hook.id}/deliveries/${failed!.id}/redeliver`)
      .set('Authorization', bearer(owner.accessToken));
    expect(redeliver.status).toBe(202);
    expect(redeliver.body).toEqual({ deliveryId: failed!.id, status: 'pending' });

    const [redelivered] = await waitFor(async () => {
      const items = await deliveries(owner, hook.id);
      return items[0]?.status === 'succeeded' && items;
    }, 'the redelivery');
    expect(redelivered).toMatchObject({ attempts: 4, lastStatusCode: 200 });
    const requests = receiver.on('/down');
    expect(requests).toHaveLength(4);
    expect(requests[3]!.headers['webhook-id']).toBe(failed!.eventId);
    expect(verified(hook.secret, requests[3]!).id).toBe(failed!.eventId);
  });

  it('after a rotation the new secret verifies (the old one too, during the overlap)', async () => {
    const hook = await createWebhook(owner, '/rotated');
    const rotated = await t.http
      .post(`/api/v1/teams/${owner.team.id}/webhooks/${hook.id}/rotate-secret`)
      .set('Authorization', bearer(owner.accessToken));
    expect(rotated.status).toBe(200);
    const secret = rotated.body.secret as string;
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(hook.secret);
    await renameTeam(owner, 'Rotated Team');
    const [request] = await waitFor(
      () => receiver.on('/rotated').length > 0 && receiver.on('/rotated'),
      'the delivery',
    );
    expect(request!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(verified(secret, request!).data).toMatchObject({ name: 'Rotated Team' });
    expect(verified(hook.secret, request!).type).toBe('team.updated');
  });

  it('a disabled endpoint gets nothing; PATCH logs UPDATE_WEBHOOK', async () => {
    const hook = await createWebhook(owner, '/disabled');
    const patched = await t.http
      .patch(`/api/v1/teams/${owner.team.id}/webhooks/${hook.id}`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ enabled: false, description: 'paused' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ enabled: false, description: 'paused' });
    await renameTeam(owner, 'Quiet Team');
    // Deliveries are written in the rename's transaction: none exist, so none will be sent.
    expect(await deliveries(owner, hook.id)).toEqual([]);
    const actions = await t.db
      .select({ action: activityLogs.action })
      .from(activityLogs)
      .where(
        and(eq(activityLogs.teamId, owner.team.id), eq(activityLogs.action, 'UPDATE_WEBHOOK')),
      );
    expect(actions.length).toBeGreaterThanOrEqual(2);
  });

  it('an accepted invitation sends invitation.created, invitation.accepted and member.added', async () => {
    const hook = await createWebhook(owner, '/members', [
      'member.added',
      'invitation.created',
      'invitation.accepted',
    ]);
    const invitee = await signUpVerified(t, { name: 'Invitee' });
    const invited = await t.http
      .post(`/api/v1/teams/${owner.team.id}/invitations`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ email: invitee.email, role: 'member' });
    expect(invited.status).toBe(201);
    const accepted = await t.http
      .post(`/api/v1/invitations/${invited.body.id}/accept`)
      .set('Authorization', bearer(invitee.accessToken));
    expect(accepted.status).toBe(200);

    const requests = await waitFor(
      () => receiver.on('/members').length >= 3 && receiver.on('/members'),
      'three events',
    );
    const byType = new Map(
      requests.map((r) => [verified(hook.secret, r).type, verified(hook.secret, r)]),
    );
    expect(byType.get('invitation.created')?.data).toMatchObject({
      id: invited.body.id,
      email: invitee.email,
      status: 'pending',
    });
    expect(byType.get('invitation.accepted')?.data).toMatchObject({
      id: invited.body.id,
      status: 'accepted',
    });
    expect(byType.get('member.added')?.data).toMatchObject({
      id: accepted.body.memberId,
      teamId: owner.team.id,
      userId: invitee.user.id,
      role: 'member',
      user: { id: invitee.user.id, email: invitee.email, name: 'Invitee' },
    });

    // The new member is not an owner: the webhook routes are closed to them.
    const asMember = await t.http
      .get(`/api/v1/teams/${owner.team.id}/webhooks`)
      .set('Authorization', bearer(invitee.accessToken));
    expect([asMember.status, asMember.body.code]).toEqual([403, 'team.forbidden']);
  });

  it('a rolled-back change stores and sends nothing', async () => {
    const hook = await createWebhook(owner, '/rollback', ['member.removed']);
    const txHost = t.app.get(TransactionHost);
    const webhooks = t.app.get(WebhooksService);
    await expect(
      txHost.transaction(async () => {
        await webhooks.emit(owner.team.id, 'member.removed', { marker: 'rolled back' });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await deliveries(owner, hook.id)).toEqual([]);
    const events = await t.db
      .select()
      .from(webhookEvents)
      .where(
        and(eq(webhookEvents.teamId, owner.team.id), eq(webhookEvents.type, 'member.removed')),
      );
    expect(events).toEqual([]);

    // The same call committed is delivered.
    await txHost.transaction(() =>
      webhooks.emit(owner.team.id, 'member.removed', { marker: 'committed' }),
    );
    const [request] = await waitFor(
      () => receiver.on('/rollback').length > 0 && receiver.on('/rollback'),
      'the committed event',
    );
    expect(verified(hook.secret, request!).data).toEqual({ marker: 'committed' });
    expect(receiver.on('/rollback')).toHaveLength(1);
  });

  it("another team's webhook answers 404 webhook.not_found, another team's routes 404", async () => {
    const hook = await createWebhook(owner, '/private');
    const stranger = await signUpVerified(t);
    for (const [method, path] of [
      ['get', `/api/v1/teams/${stranger.team.id}/webhooks/${hook.id}/deliveries`],
      ['patch', `/api/v1/teams/${stranger.team.id}/webhooks/${hook.id}`],
      ['delete', `/api/v1/teams/${stranger.team.id}/webhooks/${hook.id}`],
      ['post', `/api/v1/teams/${stranger.team.id}/webhooks/${hook.id}/rotate-secret`],
      ['post', `/api/v1/teams/${stranger.team.id}/webhooks/${hook.id}/deliveries/1/redeliver`],
    ] as const) {
      const res = await t.http[method](path)
        .set('Authorization', bearer(stranger.accessToken))
        .send(method === 'patch' ? { enabled: false } : undefined);
      expect({ path, status: res.status, code: res.body.code }).toEqual({
        path,
        status: 404,
        code: 'webhook.not_found',
      });
    }
    const direct = await t.http
      .get(`/api/v1/teams/${owner.team.id}/webhooks`)
      .set('Authorization', bearer(stranger.accessToken));
    expect(direct.status).toBe(404);

    const stillThere = await deliveries(owner, hook.id);
    expect(stillThere).toEqual([]);
  });

  it('paginates the delivery log with an opaque cursor', async () => {
    const hook = await createWebhook(owner, '/paged');
    await renameTeam(owner, 'Paged 1');
    await renameTeam(owner, 'Paged 2');
    await renameTeam(owner, 'Paged 3');
    const first = await t.http
      .get(`/api/v1/teams/${owner.team.id}/webhooks/${hook.id}/deliveries?limit=2`)
      .set('Authorization', bearer(owner.accessToken));
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await t.http
      .get(
        `/api/v1/teams/${owner.team.id}/webhooks/${hook.id}/deliveries?limit=2&cursor=${first.body.nextCursor}`,
      )
      .set('Authorization', bearer(owner.accessToken));
    expect(second.body.items).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    const ids = [...first.body.items, ...second.body.items].map((d: Delivery) => d.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const stored = await t.db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.endpointId, hook.id))
      .orderBy(asc(webhookDeliveries.id));
    expect(stored).toHaveLength(3);
  });
});

describe('outgoing webhooks: SSRF protection (e2e)', () => {
  let t: TestApp;
  let owner: SignedUp;

  beforeAll(async () => {
    t = await createTestApp({ env: { WEBHOOKS_ALLOW_PRIVATE: 'false' } });
    owner = await signUpVerified(t);
  });

  afterAll(async () => {
    await t.close();
  });

  it.each([
    ['http://example.com/hook', 'webhook.invalid_url'],
    ['https://127.0.0.1/hook', 'webhook.forbidden_target'],
    ['https://localhost/hook', 'webhook.forbidden_target'],
    ['https://10.0.0.1/hook', 'webhook.forbidden_target'],
    ['https://[::1]/hook', 'webhook.forbidden_target'],
    ['https://[::ffff:127.0.0.1]/hook', 'webhook.forbidden_target'],
    // IPv6 forms of an IPv4 address are judged as that address.
    ['https://[::127.0.0.1]/hook', 'webhook.forbidden_target'],
    ['https://[::7f00:1]/hook', 'webhook.forbidden_target'],
    ['https://[::ffff:7f00:1]/hook', 'webhook.forbidden_target'],
    ['https://[::a9fe:a9fe]/latest/meta-data', 'webhook.forbidden_target'],
    ['https://[64:ff9b::127.0.0.1]/hook', 'webhook.forbidden_target'],
    ['https://169.254.169.254/latest/meta-data', 'webhook.forbidden_target'],
    ['https://100.64.0.1/hook', 'webhook.forbidden_target'],
  ])('refuses %s with %s', async (url, code) => {
    const res = await t.http
      .post(`/api/v1/teams/${owner.team.id}/webhooks`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ url, events: ['team.updated'] });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code });
    expect(res.body.details).toEqual([expect.objectContaining({ field: 'url' })]);
  });

  it('refuses a forbidden URL on PATCH too, and unknown event types', async () => {
    const created = await t.http
      .post(`/api/v1/teams/${owner.team.id}/webhooks`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ url: 'https://93.184.216.34/hook', events: ['team.updated'] });
    expect(created.status).toBe(201);
    const patched = await t.http
      .patch(`/api/v1/teams/${owner.team.id}/webhooks/${created.body.id}`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ url: 'https://localhost/hook' });
    expect({ status: patched.status, code: patched.body.code }).toEqual({
      status: 400,
      code: 'webhook.forbidden_target',
    });
    const badEvents = await t.http
      .post(`/api/v1/teams/${owner.team.id}/webhooks`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ url: 'https://93.184.216.34/hook', events: ['team.exploded'] });
    expect(badEvents.status).toBe(400);
  });

  it('a delivery whose host now resolves to a private address fails at once, not retried', async () => {
    const team = await signUpVerified(t);
    const created = await t.http
      .post(`/api/v1/teams/${team.team.id}/webhooks`)
      .set('Authorization', bearer(team.accessToken))
      .send({ url: 'https://93.184.216.34/hook', events: ['team.updated'] });
    expect(created.status).toBe(201);
    // The host accepted at creation now resolves to loopback (DNS re-pointed: rebinding).
    await t.db
      .update(webhookEndpoints)
      .set({ url: 'https://localhost:1/hook' })
      .where(eq(webhookEndpoints.id, created.body.id as number));
    const renamed = await t.http
      .patch(`/api/v1/teams/${team.team.id}`)
      .set('Authorization', bearer(team.accessToken))
      .send({ name: 'Rebound Team' });
    expect(renamed.status).toBe(200);

    const [delivery] = await waitFor(async () => {
      const res = await t.http
        .get(`/api/v1/teams/${team.team.id}/webhooks/${created.body.id}/deliveries`)
        .set('Authorization', bearer(team.accessToken));
      const items = (res.body as { items: Delivery[] }).items;
      return items[0] !== undefined && items[0].attempts > 0 && items;
    }, 'the first attempt');
    expect(delivery).toMatchObject({
      status: 'failed',
      attempts: 1,
      lastStatusCode: null,
      nextAttemptAt: null,
    });
    expect(delivery!.lastError).toMatch(/^refused: localhost resolves to a forbidden address/);
  });
});
