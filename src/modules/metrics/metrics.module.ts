import { Global, Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

/**
 * `GET /metrics` and the registry other modules add their collectors to (the job queue's
 * depth, ...). Global so that any module can inject MetricsService without importing this one.
 */
@Global()
@Module({
  imports: [JobsModule],
  controllers: [MetricsController],
  providers: [MetricsService],
  exports: [MetricsService],
})
export class MetricsModule {}
