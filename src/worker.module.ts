import { type DynamicModule, Module } from '@nestjs/common';
import { CommonModule } from './common/common.module.js';
import { LoggingModule } from './common/logging/logging.module.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { AuthModule } from './modules/auth/auth.module.js';
import { InvitationsModule } from './modules/invitations/invitations.module.js';
import { JobsModule } from './modules/jobs/jobs.module.js';
import { MailModule } from './modules/mail/mail.module.js';
import { WebhooksModule } from './modules/webhooks/webhooks.module.js';

/**
 * What the worker entry point (`node dist/bundle/worker.js`) runs: the job queue and the modules that register its handlers
 * (mail; auth's and invitations' housekeeping; webhook deliveries), without HTTP. A module that adds a job kind
 * is listed here too.
 */
@Module({
  imports: [
    LoggingModule,
    CommonModule,
    DatabaseModule,
    JobsModule,
    MailModule,
    AuthModule,
    InvitationsModule,
    WebhooksModule,
  ],
})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: WorkerModule, imports: [ConfigModule.forRoot(config)] };
  }
}
