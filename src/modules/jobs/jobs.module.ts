import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JobHandlerExplorer } from './job-handler.explorer.js';
import { JobsService } from './jobs.service.js';

/**
 * The durable job queue. Import it to enqueue jobs (`JobsService`); providers declare the job
 * kinds they handle with `@JobHandler`. It sits on the database floor and knows no feature.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [JobsService, JobHandlerExplorer],
  exports: [JobsService],
})
export class JobsModule {}
