// First: points AdminJS at admin-bundle/ before anything imports adminjs (it reads env on
// import). The production bundle relies on AdminPanelHost's import of it (see admin-bundle.ts).
import './admin-bundle.js';
import { AdminModule } from '@adminjs/nestjs';
import { Module } from '@nestjs/common';
import AdminJS, { ForbiddenError, type AdminJSOptions } from 'adminjs';
import { AppConfig } from '../../config/app-config.js';
import { DRIZZLE, type Database } from '../../database/database.tokens.js';
import { ApiKeysModule } from '../api-keys/api-keys.module.js';
import { ApiKeysService } from '../api-keys/api-keys.service.js';
import { ScimModule } from '../scim/scim.module.js';
import { ScimTokensService } from '../scim/scim-tokens.service.js';
import { AuthModule } from '../auth/auth.module.js';
import { DomainsModule } from '../domains/domains.module.js';
import { DomainsService } from '../domains/domains.service.js';
import { InvitationsModule } from '../invitations/invitations.module.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { PlansModule } from '../plans/plans.module.js';
import { TeamsModule } from '../teams/teams.module.js';
import { UsersModule } from '../users/users.module.js';
import { canReadBackOffice } from './admin-access.js';
import { AdminAuthService, type AdminLoginContext } from './admin-auth.service.js';
import { AdminFastifyLoader } from './admin-fastify.loader.js';
import { formFields } from './admin-http.js';
import { prebuiltBundleExists } from './admin-bundle.js';
import { AdminSessions, ADMIN_SESSION_COOKIE } from './admin-session.js';
import { componentLoader, Components } from './admin.components.js';
import { AdminRepository } from './admin.repository.js';
import { buildAdminResources } from './admin.resources.js';
import { AdminService, type AdminDashboard } from './admin.service.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { WebhooksService } from '../webhooks/webhooks.service.js';
import { SsoModule } from '../sso/sso.module.js';
import { SsoService } from '../sso/sso.service.js';
import { ADMIN_ROOT_PATH } from '../../common/http/admin-path.js';

export { ADMIN_ROOT_PATH, AdminSessions };

/** The services the AdminJS factory needs; imported by the dynamic AdminModule too. */
@Module({
  imports: [
    UsersModule,
    TeamsModule,
    InvitationsModule,
    AuthModule,
    ApiKeysModule,
    WebhooksModule,
    DomainsModule,
    JobsModule,
    PlansModule,
    ScimModule,
    SsoModule,
  ],
  providers: [AdminRepository, AdminService, AdminAuthService, AdminSessions],
  exports: [
    AdminService,
    AdminAuthService,
    AdminSessions,
    ApiKeysModule,
    WebhooksModule,
    DomainsModule,
    ScimModule,
    SsoModule,
  ],
})
export class AdminCoreModule {}

/**
 * Outside production @adminjs/nestjs always calls `admin.watch()`, which starts a rollup file
 * watcher that keeps the process (and Jest) alive. Only development gets it; tests and
 * production serve the bundle built by `npm run build` (or build it on first request).
 */
function limitWatcherToDevelopment(config: AppConfig): void {
  if (config.nodeEnv === 'development') return;
  AdminJS.prototype.watch = function watch(): Promise<undefined> {
    return Promise.resolve(undefined);
  };
}

function adminJsOptions(
  db: Database,
  service: AdminService,
  apiKeys: ApiKeysService,
  webhooks: WebhooksService,
  domains: DomainsService,
  scimTokens: ScimTokensService,
  sso: SsoService,
  dashboard: () => Promise<AdminDashboard>,
): AdminJSOptions {
  return {
    rootPath: ADMIN_ROOT_PATH,
    loginPath: `${ADMIN_ROOT_PATH}/login`,
    logoutPath: `${ADMIN_ROOT_PATH}/logout`,
    componentLoader,
    resources: buildAdminResources({ db, service, apiKeys, webhooks, domains, scimTokens, sso }),
    dashboard: {
      component: Components.Dashboard,
      handler: (_request, _response, context) => {
        if (!canReadBackOffice(context?.currentAdmin)) {
          return Promise.reject(new ForbiddenError('Not allowed to read the back office'));
        }
        return dashboard();
      },
    },
    branding: { companyName: 'nest-saas back office', withMadeWithLove: false, logo: false },
    locale: {
      language: 'en',
      availableLanguages: ['en'],
      translations: {
        en: {
          actions: {
            setPassword: 'Set password',
            revoke: 'Revoke',
            disable: 'Disable',
            resendVerification: 'Resend verification',
            revokeSessions: 'Revoke all sessions',
            disableMfa: 'Disable MFA',
            remove: 'Remove',
            planOverride: 'Plan override',
          },
          // Reference columns show the related record's title (team name, user email).
          properties: {
            teamId: 'Team',
            userId: 'User',
            invitedBy: 'Invited by',
            createdBy: 'Created by',
            planProduct: 'Plan',
            planStatus: 'Subscription status',
            planSeats: 'Seats (used / billed)',
            planLimits: 'Limits in force',
            planUsage: 'Usage',
            planFeatures: 'Features (entitlements)',
            planOverrideJson: 'Plan override (JSON)',
          },
          messages: {
            tooManyRequests: 'Too many sign-in attempts. Wait a few minutes and try again.',
            mfaCodeRequired:
              'Two-factor sign-in is on for this account: enter the code from your authenticator app (or a recovery code).',
            mfaCodeInvalid: 'The two-factor code is invalid or was already used.',
          },
        },
      },
    },
  };
}

/**
 * AdminJS at /admin, on Fastify through @adminjs/fastify. A loader of our own
 * (admin-fastify.loader.ts: the panel's Fastify instance, with the same-origin check, body
 * gate and error mapping): @adminjs/nestjs's own loader does nothing on the Fastify adapter.
 */
@Module({
  imports: [
    AdminCoreModule,
    AdminModule.createAdminAsync({
      imports: [AdminCoreModule],
      inject: [
        AppConfig,
        DRIZZLE,
        AdminService,
        AdminAuthService,
        ApiKeysService,
        WebhooksService,
        DomainsService,
        ScimTokensService,
        SsoService,
      ],
      useFactory: (
        config: AppConfig,
        db: Database,
        service: AdminService,
        auth: AdminAuthService,
        apiKeys: ApiKeysService,
        webhooks: WebhooksService,
        domains: DomainsService,
        scimTokens: ScimTokensService,
        sso: SsoService,
      ) => {
        limitWatcherToDevelopment(config);
        // Production start-up never waits for bundling when `npm run build` left the bundle.
        if (prebuiltBundleExists()) process.env.ADMIN_JS_SKIP_BUNDLE = 'true';
        return {
          adminJsOptions: adminJsOptions(
            db,
            service,
            apiKeys,
            webhooks,
            domains,
            scimTokens,
            sso,
            () => service.dashboard(),
          ),
          auth: {
            // The fields from the parsed body: @adminjs/fastify passes multipart parts as they
            // come (`{ value }` objects), where the form sends multipart.
            authenticate: (_email: string, _password: string, context?: AdminLoginContext) => {
              if (!context) return Promise.resolve(null);
              const { email, password } = formFields(context.request.body);
              return auth.authenticate(email, password, context);
            },
            cookieName: ADMIN_SESSION_COOKIE,
            cookiePassword: config.adminSessionSecret,
          },
        };
      },
      customLoader: AdminFastifyLoader,
    }),
  ],
})
export class AdminPanelModule {}
