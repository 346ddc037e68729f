import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import type { Actor } from '../../src/common/auth/actor.js';
import { ActivityType, activityLogs, sessions } from '../../src/database/schema.js';
import { TransactionHost } from '../../src/database/transaction-host.js';
import { AuditService } from '../../src/modules/audit/audit.service.js';
import { SessionsService } from '../../src/modules/auth/sessions.service.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { signIn, signUp } from '../support/auth.js';

describe('AuditService and SessionsService inside a service transaction', () => {
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

  const userOf = (u: { user: { id: number; email: string } }, ip: string | null): Actor => ({
    kind: 'user',
    id: u.user.id,
    email: u.user.email,
    name: null,
    role: 'member',
    emailVerified: true,
    sessionId: 's',
    ip,
  });

  it('recordFor commits with the transaction, against the first team when teamId is omitted', async () => {
    const u = await signUp(t);
    const before = (await rowsOf(u.user.id)).length;
    const row = await txHost.transaction(() =>
      audit.recordFor(userOf(u, '192.0.2.1'), { action: ActivityType.REMOVE_TEAM_MEMBER }),
    );
    expect(row).toMatchObject({ teamId: u.team.id, userId: u.user.id, ipAddress: '192.0.2.1' });
    expect(await rowsOf(u.user.id)).toHaveLength(before + 1);
  });

  it('rolls back with the transaction', async () => {
    const u = await signUp(t);
    const before = (await rowsOf(u.user.id)).length;
    await expect(
      txHost.transaction(async () => {
        await audit.recordFor(userOf(u, null), {
          action: ActivityType.REMOVE_TEAM_MEMBER,
          teamId: u.team.id,
        });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await rowsOf(u.user.id)).toHaveLength(before);
  });

  it('recordSystem writes nothing for teamId null', async () => {
    const u = await signUp(t);
    const before = (await rowsOf(u.user.id)).length;
    expect(
      await audit.recordSystem({
        action: ActivityType.CREATE_TEAM,
        userId: u.user.id,
        teamId: null,
        ipAddress: null,
      }),
    ).toBeNull();
    expect(await rowsOf(u.user.id)).toHaveLength(before);
  });

  it('recordFor names the actor as the log shows it: an admin by the ADMIN_ variant, a key by its creator, an account acted on by its user', async () => {
    const u = await signUp(t);
    const staff = await signUp(t);
    const admin: Actor = {
      kind: 'admin',
      id: staff.user.id,
      email: staff.email,
      role: 'admin',
      ip: '198.51.100.1',
    };
    const key: Actor = {
      kind: 'apiKey',
      keyId: 1,
      teamId: u.team.id,
      scopes: [],
      createdBy: u.user.id,
      ip: '203.0.113.2',
    };
    const written = await txHost.transaction(async () => [
      await audit.recordFor(admin, { action: ActivityType.UPDATE_TEAM, teamId: u.team.id }),
      await audit.recordFor(key, { action: ActivityType.REMOVE_TEAM_MEMBER, teamId: u.team.id }),
      await audit.recordFor(admin, { action: ActivityType.UPDATE_PASSWORD, userId: u.user.id }),
    ]);
    expect(written.map((r) => [r?.action, r?.userId, r?.teamId, r?.ipAddress])).toEqual([
      [ActivityType.ADMIN_UPDATE_TEAM, staff.user.id, u.team.id, '198.51.100.1'],
      [ActivityType.REMOVE_TEAM_MEMBER, u.user.id, u.team.id, '203.0.113.2'],
      [ActivityType.UPDATE_PASSWORD, u.user.id, u.team.id, '198.51.100.1'],
    ]);
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
