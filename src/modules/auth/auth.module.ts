import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import { RateLimitModule } from '../../common/rate-limit/rate-limit.module.js';
import { AccessModule } from '../access/access.module.js';
import { AppConfig } from '../../config/app-config.js';
import { ApiKeysModule } from '../api-keys/api-keys.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { BillingModule } from '../billing/billing.module.js';
import { InvitationsModule } from '../invitations/invitations.module.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { MailModule } from '../mail/mail.module.js';
import { TeamsModule } from '../teams/teams.module.js';
import { UsersModule } from '../users/users.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { AccountController } from './account.controller.js';
import { AccountService } from './account.service.js';
import { AuthController } from './auth.controller.js';
import { AuthHousekeeping } from './auth-housekeeping.js';
import { AuthService } from './auth.service.js';
import { CredentialsService } from './credentials.service.js';
import { EmailVerificationRepository } from './email-verification.repository.js';
import { EmailVerificationService } from './email-verification.service.js';
import { JwtAuthGuard } from './jwt-auth.guard.js';
import { AuthHousekeepingRepository } from './housekeeping.repository.js';
import { JwtStrategy } from './jwt.strategy.js';
import { MailboxProofService } from './mailbox-proof.service.js';
import { OidcClients } from './oidc.client.js';
import { OidcController } from './oidc.controller.js';
import { OidcRepository } from './oidc.repository.js';
import { OidcService } from './oidc.service.js';
import { PasswordResetRepository } from './password-reset.repository.js';
import { MfaController } from './mfa.controller.js';
import { MfaRepository } from './mfa.repository.js';
import { MfaService } from './mfa.service.js';
import { SessionsController } from './sessions.controller.js';
import { SessionsRepository } from './sessions.repository.js';
import { SessionsService } from './sessions.service.js';
import { SsoEnforcement } from './sso-enforcement.js';

@Module({
  imports: [
    // Signs access tokens only; JwtStrategy (passport-jwt) is the one verifier.
    JwtModule.registerAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        // A KeyObject, so jsonwebtoken does not re-parse the string as a PEM key per token.
        secret: createSecretKey(Buffer.from(config.jwt.secret)),
        signOptions: {
          algorithm: 'HS256',
          expiresIn: config.jwt.accessTtlSeconds,
          issuer: config.jwt.issuer,
          audience: config.jwt.audience,
        },
      }),
    }),
    RateLimitModule,
    AccessModule,
    UsersModule,
    TeamsModule,
    AuditModule,
    BillingModule,
    MailModule,
    InvitationsModule,
    ApiKeysModule,
    JobsModule,
    WebhooksModule,
  ],
  controllers: [
    AuthController,
    AccountController,
    SessionsController,
    MfaController,
    OidcController,
  ],
  providers: [
    AuthService,
    CredentialsService,
    AccountService,
    SessionsService,
    SessionsRepository,
    MfaService,
    MfaRepository,
    MailboxProofService,
    PasswordResetRepository,
    EmailVerificationRepository,
    EmailVerificationService,
    AuthHousekeepingRepository,
    AuthHousekeeping,
    JwtStrategy,
    OidcClients,
    OidcRepository,
    OidcService,
    SsoEnforcement,
    // Default deny: every route of the app needs a token unless marked @Public().
    { provide: APP_GUARD, useClass: JwtAuthGuard },
  ],
  exports: [
    SessionsService,
    // The SAML ACS (sso module) ends like an OpenID Connect callback: a one-time exchange code.
    OidcService,
    MailboxProofService,
    CredentialsService,
    AccountService,
    MfaService,
    EmailVerificationService,
    RateLimitModule,
  ],
})
export class AuthModule {}
