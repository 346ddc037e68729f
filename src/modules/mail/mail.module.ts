import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { DevMailController } from './dev-mail.controller.js';
import { DevOutbox } from './dev-outbox.js';
import { MailService } from './mail.service.js';

@Module({
  imports: [JobsModule],
  controllers: [DevMailController],
  // One outbox per application: each test app (and each process) keeps its own.
  providers: [MailService, { provide: DevOutbox, useFactory: () => new DevOutbox() }],
  exports: [MailService],
})
export class MailModule {}
