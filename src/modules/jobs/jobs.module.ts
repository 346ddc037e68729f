import { Module } from '@nestjs/common';
import { JobsService } from './jobs.service.js';

/**
 * The durable job queue. Import it to enqueue jobs or register handlers (`JobsService`);
 * it sits on the database floor and knows no feature.
 */
@Module({ providers: [JobsService], exports: [JobsService] })
export class JobsModule {}
