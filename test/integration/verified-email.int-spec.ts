import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import { createHash, randomBytes } from 'node:crypto';
import type { AdminActor, ApiKeyActor } from '../../src/common/auth/actor.js';
import {
  apiKeys,
  invitations,
  passwordResetTokens,
  userTotp,
  webhookEndpoints,
} from '../../src/database/schema.js';
import { LazyModuleLoader } from '@nestjs/core';
import { AdminCoreModule } from '../../src/modules/admin/admin.module.js';
import { AdminService } from '../../src/modules/admin/admin.service.js';
import { ApiKeysService } from '../../src/modules/api-keys/api-keys.service.js';
import type { CreateApiKeyDto } from '../../src/modules/api-keys/api-keys.dto.js';
import { CredentialsService } from '../../src/modules/auth/credentials.service.js';
import { MfaService } from '../../src/modules/auth/mfa.service.js';
import type { CreateInvitationDto } from '../../src/modules/invitations/invitations.dto.js';
import { InvitationsService } from '../../src/modules/invitations/invitations.service.js';
import type { CreateWebhookDto } from '../../src/modules/webhooks/webhooks.dto.js';
import { WebhooksService } from '../../src/modules/webhooks/webhooks.service.js';
import { uniqueEmail } from '../support/app.js';
import { createTestContext, seed, SEED_PASSWORD, type TestContext } from '../support/seed.js';

/**
 * The verified-email rule of API.md v1.2 (pre-account hijacking) lives in the services, with
 * the Actor: no route guard is involved here, as for the admin panel or any other caller.
 */
let ctx: TestContext;
let adminService: AdminService;

beforeAll(async () => {
  ctx = await createTestContext({ WEBHOOKS_ALLOW_PRIVATE: 'true' });
  // The back office is loaded lazily, on the first /admin request.
  const admin = await ctx.get(LazyModuleLoader).load(() => AdminCoreModule);
  adminService = admin.get(AdminService, { strict: false });
});

afterAll(async () => {
  await ctx?.close();
});

async function codeOf(call: Promise<unknown>): Promise<string> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error === undefined) return 'resolved';
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') throw error instanceof Error ? error : new Error(String(code));
  return code;
}

const keyDto = { name: 'bot', scopes: ['team:read'] } as CreateApiKeyDto;
const hookDto = { url: 'http://127.0.0.1:9/hook', events: ['team.updated'] } as CreateWebhookDto;
const inviteDto = () => ({ email: uniqueEmail('invitee'), role: 'member' }) as CreateInvitationDto;

describe('the services refuse an owner whose email is not verified', () => {
  it('API keys, webhook endpoints, invitations, TOTP: 403 email.unverified, nothing written', async () => {
    const s = await seed(ctx.db, {
      users: { owner: { verified: false } },
      teams: { t: {} },
      members: [{ user: 'owner', team: 't', role: 'owner' }],
    });
    const actor = s.users.owner.auth;
    const team = s.teams.t.id;
    expect({
      key: await codeOf(ctx.get(ApiKeysService).create(actor, team, keyDto)),
      webhook: await codeOf(ctx.get(WebhooksService).create(actor, team, hookDto)),
      invitation: await codeOf(ctx.get(InvitationsService).invite(actor, team, inviteDto())),
      totp: await codeOf(ctx.get(MfaService).startEnrolment(actor, SEED_PASSWORD)),
      totpConfirm: await codeOf(ctx.get(MfaService).confirmEnrolment(actor, '123456')),
    }).toEqual({
      key: 'email.unverified',
      webhook: 'email.unverified',
      invitation: 'email.unverified',
      totp: 'email.unverified',
      totpConfirm: 'email.unverified',
    });
    expect(await ctx.db.select().from(apiKeys).where(eq(apiKeys.teamId, team))).toEqual([]);
    expect(
      await ctx.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.teamId, team)),
    ).toEqual([]);
    expect(await ctx.db.select().from(invitations).where(eq(invitations.teamId, team))).toEqual([]);
    expect(
      await ctx.db.select().from(userTotp).where(eq(userTotp.userId, s.users.owner.id)),
    ).toEqual([]);
  });

  it('still answers 404 to an unverified outsider (the team stays hidden)', async () => {
    const s = await seed(ctx.db, {
      users: { owner: {}, outsider: { verified: false } },
      teams: { t: {} },
      members: [{ user: 'owner', team: 't', role: 'owner' }],
    });
    const outsider = s.users.outsider.auth;
    expect(await codeOf(ctx.get(ApiKeysService).create(outsider, s.teams.t.id, keyDto))).toBe(
      'team.not_found',
    );
    expect(
      await codeOf(ctx.get(InvitationsService).invite(outsider, s.teams.t.id, inviteDto())),
    ).toBe('team.not_found');
  });

  it('lets a verified owner, and a key a verified owner made, do the same', async () => {
    const s = await seed(ctx.db, {
      users: { owner: {} },
      teams: { t: {} },
      members: [{ user: 'owner', team: 't', role: 'owner' }],
    });
    const team = s.teams.t.id;
    const created = await ctx.get(ApiKeysService).create(s.users.owner.auth, team, keyDto);
    await ctx.get(WebhooksService).create(s.users.owner.auth, team, hookDto);
    await ctx.get(InvitationsService).invite(s.users.owner.auth, team, inviteDto());
    const key: ApiKeyActor = {
      kind: 'apiKey',
      keyId: created.id,
      teamId: team,
      scopes: ['invitations:write', 'webhooks:write'],
      createdBy: s.users.owner.id,
      ip: '198.51.100.7',
    };
    await ctx.get(InvitationsService).invite(key, team, inviteDto());
    await ctx.get(WebhooksService).create(key, team, hookDto);
    expect(
      await ctx.db.select().from(invitations).where(eq(invitations.teamId, team)),
    ).toHaveLength(2);
    const hooks = await ctx.db
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.teamId, team));
    // An endpoint a key made names the key's creator, as its activity row does.
    expect(hooks.map((h) => h.createdBy)).toEqual([s.users.owner.id, s.users.owner.id]);
  });
});

describe('password-reset links follow the address', () => {
  async function userWithResetLink() {
    const s = await seed(ctx.db, {
      users: { staff: { role: 'admin' }, u: {} },
      teams: { t: {} },
      members: [{ user: 'u', team: 't', role: 'owner' }],
    });
    const token = randomBytes(32).toString('base64url');
    await ctx.db.insert(passwordResetTokens).values({
      userId: s.users.u.id,
      tokenHash: createHash('sha256').update(token).digest('hex'),
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    const admin: AdminActor = {
      kind: 'admin',
      id: s.users.staff.id,
      email: s.users.staff.email,
      role: 'admin',
      ip: '198.51.100.9',
    };
    return { s, token, admin };
  }

  const confirm = (token: string) =>
    ctx.get(CredentialsService).confirmReset({ token, newPassword: 'a new password 1' }, null);

  it("an admin's change of the address retires the links mailed to the old one", async () => {
    const { s, token, admin } = await userWithResetLink();
    await adminService.updateUser(admin, s.users.u.id, { email: uniqueEmail('moved') });
    expect(await codeOf(confirm(token))).toBe('auth.invalid_reset_token');
  });

  it('an admin edit that keeps the address leaves them working', async () => {
    const { s, token, admin } = await userWithResetLink();
    await adminService.updateUser(admin, s.users.u.id, { name: 'Renamed', email: s.users.u.email });
    expect(await codeOf(confirm(token))).toBe('resolved');
  });
});
