import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import { ActivityType, activityLogs, sessions } from '../../src/database/schema.js';
import { TransactionHost } from '../../src/database/transaction-host.js';
import { AuditService } from '../../src/modules/audit/audit.service.js';
import { SessionsService } from '../../src/modules/auth/sessions.service.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { signIn, signUp } from '../support/auth.js';

describe('AuditService.record and SessionsService inside a service transaction', () => {
  let t: TestApp;
  let audit: AuditService;
  let txHost: TransactionHost;
  let sessionsService: SessionsService;

  beforeAll(async () => {
    t = await createTestApp();
    audit = t.app.get(AuditService);
    txHost = t.app.get(TransactionHost);
    sessionsService = t.app.get(SessionsService);
  });

  afterAll(async () => {
    await t.close();
  });

  const rowsOf = (userId: number) =>
    t.db.select().from(activityLogs).where(eq(activityLogs.userId, userId));

  it('commits with the transaction, against the first team when teamId is omitted', async () => {
    const u = await signUp(t);
    const before = (await rowsOf(u.user.id)).length;
    const row = await txHost.transaction(() =>
      audit.record({
        action: ActivityType.REMOVE_TEAM_MEMBER,
        userId: u.user.id,
        ipAddress: '192.0.2.1',
      }),
    );
    expect(row).toMatchObject({ teamId: u.team.id, userId: u.user.id, ipAddress: '192.0.2.1' });
    expect(await rowsOf(u.user.id)).toHaveLength(before + 1);
  });

  it('rolls back with the transaction', async () => {
    const u = await signUp(t);
    const before = (await rowsOf(u.user.id)).length;
    await expect(
      txHost.transaction(async () => {
        await audit.record({
          action: ActivityType.REMOVE_TEAM_MEMBER,
          userId: u.user.id,
          teamId: u.team.id,
          ipAddress: null,
        });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await rowsOf(u.user.id)).toHaveLength(before);
  });

  it('writes nothing for teamId null', async () => {
    const u = await signUp(t);
    const before = (await rowsOf(u.user.id)).length;
    expect(
      await audit.record({
        action: ActivityType.CREATE_TEAM,
        userId: u.user.id,
        teamId: null,
        ipAddress: null,
      }),
    ).toBeNull();
    expect(await rowsOf(u.user.id)).toHaveLength(before);
  });

  it('revokeAllForUser ends every session (or all but one) and joins the transaction', async () => {
    const u = await signUp(t);
    const second = await signIn(t, u.email, u.password);
    const keep = u.refreshToken.split('.')[0]!;
    await expect(
      txHost.transaction(async () => {
        await sessionsService.revokeAllForUser(u.user.id, 'admin', keep);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    let rows = await t.db.select().from(sessions).where(eq(sessions.userId, u.user.id));
    expect(rows.every((s) => s.revokedAt === null)).toBe(true);

    expect(await sessionsService.revokeAllForUser(u.user.id, 'admin', keep)).toBe(1);
    rows = await t.db.select().from(sessions).where(eq(sessions.userId, u.user.id));
    const byId = new Map(rows.map((s) => [s.id, s.revokedReason]));
    expect(byId.get(keep)).toBeNull();
    expect(byId.get(second.refreshToken.split('.')[0]!)).toBe('admin');
    expect(await sessionsService.revokeAllForUser(u.user.id, 'admin')).toBe(1);
  });
});
