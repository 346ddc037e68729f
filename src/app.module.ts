import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CommonModule } from './common/common.module.js';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter.js';
import { LoggingModule } from './common/logging/logging.module.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { adminPanelMounted, AdminPanelHostModule } from './modules/admin/admin-panel.host.js';
import { ApiKeysModule } from './modules/api-keys/api-keys.module.js';
import { AuditModule } from './modules/audit/audit.module.js';
import { AuthModule } from './modules/auth/auth.module.js';
import { BillingModule } from './modules/billing/billing.module.js';
import { DomainsModule } from './modules/domains/domains.module.js';
import { HealthModule } from './modules/health/health.module.js';
import { InvitationsModule } from './modules/invitations/invitations.module.js';
import { MailModule } from './modules/mail/mail.module.js';
import { MetricsModule } from './modules/metrics/metrics.module.js';
import { PlansModule } from './modules/plans/plans.module.js';
import { ScimModule } from './modules/scim/scim.module.js';
import { SsoModule } from './modules/sso/sso.module.js';
import { TeamsModule } from './modules/teams/teams.module.js';
import { UsersModule } from './modules/users/users.module.js';
import { WebhooksApiModule } from './modules/webhooks/webhooks-api.module.js';

@Module({
  imports: [
    LoggingModule,
    CommonModule,
    DatabaseModule,
    HealthModule,
    MetricsModule,
    MailModule,
    AuditModule,
    UsersModule,
    PlansModule,
    TeamsModule,
    InvitationsModule,
    BillingModule,
    ApiKeysModule,
    WebhooksApiModule,
    DomainsModule,
    AuthModule,
    ScimModule,
    SsoModule,
  ],
  providers: [{ provide: APP_FILTER, useClass: AllExceptionsFilter }],
})
export class AppModule {
  /**
   * The application on `config` (server.ts passes the boot-time config with the database URL it
   * prepared); without one, config is read from the environment (OpenAPI preview).
   */
  static forRoot(config?: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        // Only a light handler at /admin: the panel itself (AdminJS and its dependencies,
        // ~1 s of start-up and 50-110 MB of memory) loads on the first /admin request, so an
        // instance no one opens the panel on never pays for it (AdminPanelHost). With
        // ADMIN_PANEL=false not even that. The OpenAPI preview (no config) mounts it: it adds
        // no operations.
        ...(adminPanelMounted(config) ? [AdminPanelHostModule] : []),
      ],
    };
  }
}
