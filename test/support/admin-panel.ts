// First: points AdminJS at admin-bundle/ before `adminjs` is imported (it reads the setting
// once, on import); otherwise a suite's panel would bundle its components into .adminjs/.
import '../../src/modules/admin/admin-bundle.js';
import argon2 from 'argon2';
import { LazyModuleLoader, type ModuleRef } from '@nestjs/core';
import AdminJS from 'adminjs';
import { sql } from 'drizzle-orm';
import { TOTP } from 'otpauth';
import { DRIZZLE, type Database } from '../../src/database/database.tokens.js';
import { users } from '../../src/database/schema.js';
import { componentLoader } from '../../src/modules/admin/admin.components.js';
import { AdminPanelModule } from '../../src/modules/admin/admin.module.js';
import { buildAdminResources } from '../../src/modules/admin/admin.resources.js';
import { AdminService } from '../../src/modules/admin/admin.service.js';
import { ApiKeysService } from '../../src/modules/api-keys/api-keys.service.js';
import { DomainsService } from '../../src/modules/domains/domains.service.js';
import { ScimTokensService } from '../../src/modules/scim/scim-tokens.service.js';
import { SsoService } from '../../src/modules/sso/sso.service.js';
import { WebhooksService } from '../../src/modules/webhooks/webhooks.service.js';
import { uniqueEmail, type TestApp } from './app.js';
import { bearer, markEmailVerified, type SignedUp } from './auth.js';

export interface DecoratedAction {
  name: string;
  type: 'record' | 'bulk' | 'resource';
}

export interface DecoratedResource {
  /** The panel's resource id (its URLs). */
  id: string;
  /** The table behind it. */
  table: string;
  actions: DecoratedAction[];
}

/** The TOTP code of `secret`, `offset` 30-second steps from now. */
export const codeAt = (secret: string, offset = 0): string =>
  new TOTP({ secret }).generate({ timestamp: Date.now() + offset * 30_000 });

/** Switches MFA on for a user through the API, as they would; returns the TOTP secret. */
export async function enableMfa(t: TestApp, signed: SignedUp): Promise<string> {
  // Enabling TOTP needs a verified email (API.md v1.2).
  await markEmailVerified(t, signed.user.id);
  const started = await t.http
    .post('/api/v1/users/me/mfa/totp')
    .set('Authorization', bearer(signed.accessToken))
    .send({ password: signed.password })
    .expect(200);
  const secret = (started.body as { secret: string }).secret;
  await t.http
    .post('/api/v1/users/me/mfa/totp/confirm')
    .set('Authorization', bearer(signed.accessToken))
    .send({ code: codeAt(secret, -1) })
    .expect(200);
  return secret;
}

/** A fresh staff user (password hashed with the app's argon2 settings). */
export async function createStaff(
  t: TestApp,
  role: 'admin' | 'support',
  name = `Staff ${role}`,
): Promise<{ id: number; email: string; password: string }> {
  const email = uniqueEmail(role);
  const password = `${role}-password-1`;
  const passwordHash = await argon2.hash(password, {
    type: argon2.argon2id,
    memoryCost: 19_456,
    timeCost: 2,
    parallelism: 1,
  });
  const [row] = await t.db.insert(users).values({ email, passwordHash, role, name }).returning();
  return { id: row!.id, email, password };
}

/** A row as PostgreSQL prints it: any change to any column changes the text. */
export async function rowText(
  db: Database,
  table: string,
  id: string,
): Promise<string | undefined> {
  const rows = await db.execute<{ row: string }>(
    sql`select t::text as row from ${sql.identifier(table)} t where t.id::text = ${id}`,
  );
  return rows.rows[0]?.row;
}

/**
 * The panel's own module (it loads on the first /admin request, so its services are not in
 * the app's eager graph): LazyModuleLoader loads it, or returns it when already loaded.
 */
export function adminPanelModule(t: TestApp): Promise<ModuleRef> {
  return t.app.get(LazyModuleLoader).load(() => AdminPanelModule);
}

/** The panel's resources and actions exactly as AdminJS decorates them for the app. */
export async function decoratedActions(
  t: TestApp,
): Promise<{ admin: AdminJS; resources: DecoratedResource[] }> {
  const admin = new AdminJS({
    componentLoader,
    resources: buildAdminResources({
      db: t.app.get<Database>(DRIZZLE),
      service: (await adminPanelModule(t)).get(AdminService, { strict: false }),
      apiKeys: t.app.get(ApiKeysService),
      webhooks: t.app.get(WebhooksService),
      domains: t.app.get(DomainsService),
      scimTokens: t.app.get(ScimTokensService),
      sso: t.app.get(SsoService),
    }),
  });
  const resources = admin.resources.map((resource) => {
    const decorated = resource.decorate();
    return {
      id: decorated.id(),
      table: resource.id(),
      actions: Object.entries(decorated.actions).map(([name, action]): DecoratedAction => ({
        name,
        type: action.isRecordType() ? 'record' : action.isBulkType() ? 'bulk' : 'resource',
      })),
    };
  });
  return { admin, resources };
}

/** The API URL an action answers at, for one target record. */
export function actionApiUrl(
  resourceId: string,
  action: DecoratedAction,
  recordId: string,
): string {
  const id = encodeURIComponent(recordId);
  switch (action.type) {
    case 'record':
      return `/admin/api/resources/${resourceId}/records/${id}/${action.name}`;
    case 'bulk':
      return `/admin/api/resources/${resourceId}/bulk/${action.name}?recordIds=${id}`;
    case 'resource':
      return `/admin/api/resources/${resourceId}/actions/${action.name}`;
  }
}

/** The panel page of an action, for one target record. */
export function actionPageUrl(
  resourceId: string,
  action: DecoratedAction,
  recordId: string,
): string {
  return actionApiUrl(resourceId, action, recordId).replace(/^\/admin\/api\//, '/admin/');
}
