import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq } from 'drizzle-orm';
import supertest from 'supertest';
import {
  activityLogs,
  users,
  webhookDeliveries,
  webhookEndpoints,
} from '../../src/database/schema.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, signUpVerified, type SignedUp } from '../support/auth.js';

const ADMIN = { email: 'admin@test.com', password: 'admin123' };

describe('back office: webhook endpoints and deliveries', () => {
  let t: TestApp;
  let agent: ReturnType<typeof supertest.agent>;
  let owner: SignedUp;
  let hook: { id: number; secret: string };
  let adminId: number;

  beforeAll(async () => {
    t = await createTestApp({ env: { WEBHOOKS_ALLOW_PRIVATE: 'true' } });
    agent = supertest.agent(t.app.getHttpServer());
    const login = await agent.post('/admin/login').type('form').send(ADMIN);
    expect(login.status).toBe(302);
    const [admin] = await t.db.select().from(users).where(eq(users.email, ADMIN.email));
    adminId = admin!.id;
    owner = await signUpVerified(t);
    const created = await t.http
      .post(`/api/v1/teams/${owner.team.id}/webhooks`)
      .set('Authorization', bearer(owner.accessToken))
      // Nothing listens there: deliveries just fail and are retried.
      .send({ url: 'http://127.0.0.1:9/hook', events: ['team.updated'] });
    expect(created.status).toBe(201);
    hook = created.body as { id: number; secret: string };
  });

  afterAll(async () => {
    await t.close();
  });

  it('lists and shows endpoints without their secrets', async () => {
    const list = await agent.get('/admin/api/resources/webhook_endpoints/actions/list').expect(200);
    const record = (list.body.records as { id: string; params: Record<string, unknown> }[]).find(
      (r) => Number(r.id) === hook.id,
    );
    expect(record?.params).toMatchObject({ url: 'http://127.0.0.1:9/hook', enabled: true });
    const show = await agent
      .get(`/admin/api/resources/webhook_endpoints/records/${hook.id}/show`)
      .expect(200);
    for (const body of [list.body, show.body]) {
      const json = JSON.stringify(body);
      expect(json).not.toContain(hook.secret.slice(6));
      expect(json).not.toMatch(/"(secret|previousSecret)"/);
    }
  });

  it('disables an endpoint through the service (UPDATE_WEBHOOK by the admin)', async () => {
    const res = await agent
      .post(`/admin/api/resources/webhook_endpoints/records/${hook.id}/disable`)
      .expect(200);
    expect(res.body.notice).toMatchObject({ type: 'success' });
    const [row] = await t.db
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.id, hook.id));
    expect(row!.enabled).toBe(false);
    const logged = await t.db
      .select()
      .from(activityLogs)
      .where(
        and(eq(activityLogs.teamId, owner.team.id), eq(activityLogs.action, 'UPDATE_WEBHOOK')),
      );
    expect(logged.map((r) => r.userId)).toEqual([adminId]);
  });

  it('deliveries are read-only', async () => {
    await t.http
      .patch(`/api/v1/teams/${owner.team.id}/webhooks/${hook.id}`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ enabled: true })
      .expect(200);
    await t.http
      .patch(`/api/v1/teams/${owner.team.id}`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ name: 'Admin Seen Team' })
      .expect(200);
    const list = await agent
      .get('/admin/api/resources/webhook_deliveries/actions/list')
      .expect(200);
    const delivery = (list.body.records as { id: string; params: Record<string, unknown> }[]).find(
      (r) => Number(r.params.endpointId) === hook.id,
    );
    expect(delivery).toBeDefined();
    for (const action of ['edit', 'delete']) {
      const res = await agent.post(
        `/admin/api/resources/webhook_deliveries/records/${delivery!.id}/${action}`,
      );
      // AdminJS answers an inaccessible action with an error notice, changing nothing.
      expect({ action, notice: (res.body as { notice?: { type: string } }).notice?.type }).toEqual({
        action,
        notice: 'error',
      });
    }
    const still = await t.db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.id, Number(delivery!.id)));
    expect(still).toHaveLength(1);
  });
});
