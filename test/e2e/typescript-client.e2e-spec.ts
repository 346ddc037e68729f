import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import {
  createClient,
  type ApiError,
  type NestSaasClient,
} from '../../clients/typescript/index.js';
import { invitations, teamMembers } from '../../src/database/schema.js';
import { createTestApp, type TestApp, uniqueEmail } from '../support/app.js';
import { markEmailVerified } from '../support/auth.js';

/**
 * The typed client of clients/typescript (generated from openapi.json, used through
 * openapi-fetch) against the running app over real HTTP, as a frontend would use it.
 */
describe('the typed TypeScript client (clients/typescript)', () => {
  let t: TestApp;
  let baseUrl: string;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await t.close();
  });

  it('signs up, creates a team and invites someone', async () => {
    const anonymous = createClient({ baseUrl });
    const email = uniqueEmail('client');
    const signUp = await anonymous.POST('/api/v1/auth/sign-up', {
      body: { email, password: 'correct horse battery staple', name: 'Ada' },
    });
    expect(signUp.response.status).toBe(201);
    expect(signUp.error).toBeUndefined();
    const session = signUp.data!;
    expect(session.user).toMatchObject({ email, name: 'Ada' });
    expect(session.tokenType).toBe('Bearer');
    // Inviting needs a verified email; the link flow itself is tested elsewhere.
    await markEmailVerified(t, session.user.id);

    const client: NestSaasClient = createClient({
      baseUrl,
      headers: { Authorization: `Bearer ${session.accessToken}` },
    });
    const created = await client.POST('/api/v1/teams', { body: { name: 'Client Team' } });
    expect(created.response.status).toBe(201);
    const team = created.data!;
    expect(team).toMatchObject({ name: 'Client Team', teamMembers: [{ role: 'owner' }] });

    const invitee = uniqueEmail('invitee');
    const invited = await client.POST('/api/v1/teams/{teamId}/invitations', {
      params: { path: { teamId: team.id } },
      body: { email: invitee, role: 'member' },
    });
    expect(invited.response.status).toBe(201);
    expect(invited.data).toMatchObject({ teamId: team.id, email: invitee, status: 'pending' });

    const listed = await client.GET('/api/v1/teams/{teamId}/invitations', {
      params: { path: { teamId: team.id }, query: { limit: 10 } },
    });
    expect(listed.data?.items.map((i) => i.email)).toEqual([invitee]);
    expect(listed.data?.nextCursor).toBeNull();

    const rows = await t.db.select().from(invitations).where(eq(invitations.teamId, team.id));
    expect(rows.map((r) => [r.email, r.role, r.status])).toEqual([[invitee, 'member', 'pending']]);
    const members = await t.db.select().from(teamMembers).where(eq(teamMembers.teamId, team.id));
    expect(members.map((m) => [m.userId, m.role])).toEqual([[session.user.id, 'owner']]);
  });

  it('gives errors in the API shape, typed with their documented codes', async () => {
    const client = createClient({ baseUrl });
    const email = uniqueEmail('client-dup');
    const body = { email, password: 'correct horse battery staple' };
    expect((await client.POST('/api/v1/auth/sign-up', { body })).response.status).toBe(201);
    const again = await client.POST('/api/v1/auth/sign-up', { body });
    expect(again.response.status).toBe(409);
    const error: ApiError | undefined = again.error;
    expect(error).toEqual({
      statusCode: 409,
      error: 'Conflict',
      code: 'user.email_taken',
      message: 'This email address is already in use',
    });
    const anonymous = await client.GET('/api/v1/users/me');
    expect(anonymous.response.status).toBe(401);
    expect(anonymous.error?.code).toBe('auth.unauthorized');
  });
});
