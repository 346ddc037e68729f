import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module.js';
import { RateLimitModule } from '../../common/rate-limit/rate-limit.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { MailModule } from '../mail/mail.module.js';
import { PlansModule } from '../plans/plans.module.js';
import { TeamsModule } from '../teams/teams.module.js';
import { UsersModule } from '../users/users.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { MyInvitationsController, TeamInvitationsController } from './invitations.controller.js';
import { InvitationsHousekeeping } from './invitations-housekeeping.js';
import { InvitationsRepository } from './invitations.repository.js';
import { InvitationsService } from './invitations.service.js';

/** Exports InvitationsService for auth's sign-up (`redeemForNewUser`). */
@Module({
  imports: [
    AccessModule,
    PlansModule,
    TeamsModule,
    AuditModule,
    MailModule,
    UsersModule,
    JobsModule,
    WebhooksModule,
    RateLimitModule,
  ],
  controllers: [TeamInvitationsController, MyInvitationsController],
  providers: [InvitationsRepository, InvitationsService, InvitationsHousekeeping],
  exports: [InvitationsService],
})
export class InvitationsModule {}
