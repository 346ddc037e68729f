import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq } from 'drizzle-orm';
import { activityLogs, invitations } from '../../src/database/schema.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, signUp } from '../support/auth.js';

// Its own file (and app): a second app in one test file replaces the first one's passport
// strategy, which is registered process-wide.
describe('invitations when mail delivery fails (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Nothing listens on the discard port: every delivery attempt is refused.
    t = await createTestApp({ env: { SMTP_URL: 'smtp://127.0.0.1:9' } });
  });

  afterAll(async () => {
    await t.close();
  });

  it('answers 503 invitation.mail_failed and saves neither the invitation nor its activity row', async () => {
    const owner = await signUp(t);
    const email = uniqueEmail('unsent');
    const res = await t.http
      .post(`/api/v1/teams/${owner.team.id}/invitations`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ email, role: 'member' });
    expect([res.status, res.body.code]).toEqual([503, 'invitation.mail_failed']);
    expect(await t.db.select().from(invitations).where(eq(invitations.email, email))).toEqual([]);
    const logs = await t.db
      .select()
      .from(activityLogs)
      .where(
        and(eq(activityLogs.teamId, owner.team.id), eq(activityLogs.action, 'INVITE_TEAM_MEMBER')),
      );
    expect(logs).toEqual([]);
  });
});
