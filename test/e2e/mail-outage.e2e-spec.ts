import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq, sql } from 'drizzle-orm';
import { setTimeout as sleep } from 'node:timers/promises';
import { activityLogs, invitations } from '../../src/database/schema.js';
import { createTestApp, uniqueEmail, type TestApp } from '../support/app.js';
import { bearer, signUpVerified } from '../support/auth.js';
import { startSmtpCapture, type SmtpCapture } from '../support/smtp.js';

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
}

// Its own file (and app): a second app in one test file replaces the first one's passport
// strategy, which is registered process-wide.
describe('mail while the SMTP server is down (e2e)', () => {
  let t: TestApp;
  let smtp: SmtpCapture;
  let jobs: string;

  /** The queued mail jobs of this app, by state. */
  async function mailJobs(): Promise<{ id: string; state: string; retry_count: number }[]> {
    const result = await t.db.execute<{ id: string; state: string; retry_count: number }>(
      sql`select id, state, retry_count from ${sql.identifier(jobs)}.job where name = 'mail.send' order by created_on`,
    );
    return result.rows;
  }

  /** Skips the backoff wait: due retries start now (the delay itself is pg-boss's). */
  async function retryNow(): Promise<void> {
    await t.db.execute(
      sql`update ${sql.identifier(jobs)}.job set start_after = now() where state = 'retry'`,
    );
  }

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    t = await createTestApp({ env: { SMTP_URL: smtp.url } });
    jobs = t.config.jobs.schema;
  });

  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  it('answers the requests at once, retries the refused mails and delivers each once when SMTP is back', async () => {
    smtp.refuse(true);
    const owner = await signUpVerified(t);
    const invitee = uniqueEmail('invitee');
    const invite = await t.http
      .post(`/api/v1/teams/${owner.team.id}/invitations`)
      .set('Authorization', bearer(owner.accessToken))
      .send({ email: invitee, role: 'member' });
    expect(invite.status).toBe(201);
    const reset = await t.http.post('/api/v1/auth/password-reset').send({ email: owner.email });
    expect(reset.status).toBe(202);

    // The invitation and its activity row are saved although no mail could go out.
    expect(
      await t.db.select().from(invitations).where(eq(invitations.email, invitee)),
    ).toHaveLength(1);
    const logs = await t.db
      .select()
      .from(activityLogs)
      .where(
        and(eq(activityLogs.teamId, owner.team.id), eq(activityLogs.action, 'INVITE_TEAM_MEMBER')),
      );
    expect(logs).toHaveLength(1);

    // Verification, invitation and reset mail: each tried, refused, and waiting to be retried.
    await until(async () => {
      const queued = await mailJobs();
      return queued.length === 3 && queued.every((j) => j.state === 'retry');
    });
    expect(smtp.refused).toBeGreaterThanOrEqual(3);
    expect(smtp.messages).toHaveLength(0);

    smtp.refuse(false);
    await retryNow();
    const verification = await smtp.waitForMail(owner.email, { subject: 'Verify' });
    const invitation = await smtp.waitForMail(invitee, { subject: 'invited you' });
    await smtp.waitForMail(owner.email, { subject: 'Reset your password' });
    await until(async () => (await mailJobs()).every((j) => j.state === 'completed'));

    // Exactly once: nothing else arrives, and each mail carries its job's id as Message-ID.
    await sleep(1500);
    expect(smtp.messages).toHaveLength(3);
    const ids = (await mailJobs()).map((j) => j.id);
    expect(ids).toHaveLength(3);
    for (const mail of [verification, invitation]) {
      const messageId = /^<([0-9a-f-]{36})@/.exec(mail.headers.get('message-id') ?? '')?.[1];
      expect(ids).toContain(messageId);
    }
    expect(invitation.text).toContain('/invitations/accept?token=');
  });
});
