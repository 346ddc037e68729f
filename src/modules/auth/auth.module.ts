import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import { RateLimitModule } from '../../common/rate-limit/rate-limit.module.js';
import { AppConfig } from '../../config/app-config.js';
import { AuditModule } from '../audit/audit.module.js';
import { BillingModule } from '../billing/billing.module.js';
import { InvitationsModule } from '../invitations/invitations.module.js';
import { MailModule } from '../mail/mail.module.js';
import { UsersModule } from '../users/users.module.js';
import { AccountController } from './account.controller.js';
import { AccountRepository } from './account.repository.js';
import { AccountService } from './account.service.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { CredentialsService } from './credentials.service.js';
import { EmailVerificationRepository } from './email-verification.repository.js';
import { EmailVerificationService } from './email-verification.service.js';
import { JwtAuthGuard } from './jwt-auth.guard.js';
import { JwtStrategy } from './jwt.strategy.js';
import { OidcClients } from './oidc.client.js';
import { OidcController } from './oidc.controller.js';
import { OidcRepository } from './oidc.repository.js';
import { OidcService } from './oidc.service.js';
import { PasswordResetRepository } from './password-reset.repository.js';
import { SessionsRepository } from './sessions.repository.js';
import { SessionsService } from './sessions.service.js';

@Module({
  imports: [
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
        verifyOptions: {
          algorithms: ['HS256'],
          issuer: config.jwt.issuer,
          audience: config.jwt.audience,
        },
      }),
    }),
    RateLimitModule,
    UsersModule,
    AuditModule,
    BillingModule,
    MailModule,
    InvitationsModule,
  ],
  controllers: [AuthController, AccountController, OidcController],
  providers: [
    AuthService,
    CredentialsService,
    AccountService,
    SessionsService,
    SessionsRepository,
    PasswordResetRepository,
    EmailVerificationRepository,
    EmailVerificationService,
    AccountRepository,
    JwtStrategy,
    OidcClients,
    OidcRepository,
    OidcService,
    // Default deny: every route of the app needs a token unless marked @Public().
    { provide: APP_GUARD, useClass: JwtAuthGuard },
  ],
  exports: [SessionsService, CredentialsService, AccountService, RateLimitModule],
})
export class AuthModule {}
