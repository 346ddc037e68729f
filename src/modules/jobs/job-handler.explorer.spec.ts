import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, Scope } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test, type TestingModule } from '@nestjs/testing';
import { AppConfig } from '../../config/app-config.js';
import { JobHandler } from './job-handler.decorator.js';
import { JobHandlerExplorer } from './job-handler.explorer.js';
import { JobsService } from './jobs.service.js';
import type { JobContext, JobDefinition } from './jobs.types.js';

/** Stands in for the queue: keeps what is registered (the queue itself is integration-tested). */
class RecordingJobs {
  readonly definitions: JobDefinition<object>[] = [];
  register(definition: JobDefinition<object>): void {
    this.definitions.push(definition);
  }
}

@Injectable()
class Reports {
  readonly handled: { data: unknown; job: JobContext; self: unknown }[] = [];

  @JobHandler('reports.build', {
    cron: '0 * * * *',
    retry: { limit: 2, delaySeconds: 30, backoff: true },
    expireInSeconds: 60,
    batchSize: 3,
  })
  private async build(data: { reportId: number }, job: JobContext): Promise<string> {
    this.handled.push({ data, job, self: this });
    return Promise.resolve('a result the queue ignores');
  }

  notAHandler(): Promise<void> {
    return Promise.resolve();
  }
}

@Injectable()
class Sizing {
  @JobHandler('sizing.run', (config) => ({
    retry: { limit: 1, delaySeconds: 1, backoff: false },
    expireInSeconds: 10,
    batchSize: config.webhooks.concurrency,
  }))
  run(): Promise<void> {
    return Promise.reject(new Error('handler failed'));
  }
}

@Injectable({ scope: Scope.REQUEST })
class PerRequest {
  @JobHandler('per-request.never', {
    retry: { limit: 0, delaySeconds: 1, backoff: false },
    expireInSeconds: 1,
  })
  run(): Promise<void> {
    return Promise.resolve();
  }
}

const open: TestingModule[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((moduleRef) => moduleRef.close()));
});

async function explore(...providers: (new (...args: never[]) => unknown)[]) {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    providers: [
      JobHandlerExplorer,
      { provide: JobsService, useClass: RecordingJobs },
      { provide: AppConfig, useValue: { webhooks: { concurrency: 7 } } },
      ...providers,
    ],
  }).compile();
  open.push(moduleRef);
  await moduleRef.init();
  return { moduleRef, jobs: moduleRef.get<RecordingJobs>(JobsService) };
}

describe('JobHandlerExplorer (@JobHandler methods registered at init)', () => {
  it('registers a decorated method under its name with its options, and only that one', async () => {
    const { jobs } = await explore(Reports);
    expect(jobs.definitions).toEqual([
      {
        name: 'reports.build',
        cron: '0 * * * *',
        retry: { limit: 2, delaySeconds: 30, backoff: true },
        expireInSeconds: 60,
        batchSize: 3,
        handle: expect.any(Function),
      },
    ]);
  });

  it('runs the method on its provider instance with the job data and context', async () => {
    const { moduleRef, jobs } = await explore(Reports);
    const reports = moduleRef.get(Reports);
    const job = { id: 'a-job-id', name: 'reports.build', retryCount: 1 };
    await expect(jobs.definitions[0]!.handle({ reportId: 42 }, job)).resolves.toBeUndefined();
    expect(reports.handled).toEqual([{ data: { reportId: 42 }, job, self: reports }]);
  });

  it('resolves options given as a function of the configuration', async () => {
    const { jobs } = await explore(Sizing);
    expect(jobs.definitions).toMatchObject([{ name: 'sizing.run', batchSize: 7 }]);
  });

  it('passes a handler failure on to the queue (which retries the job)', async () => {
    const { jobs } = await explore(Sizing);
    const job = { id: 'b', name: 'sizing.run', retryCount: 0 };
    await expect(jobs.definitions[0]!.handle({}, job)).rejects.toThrow('handler failed');
  });

  it('leaves request-scoped providers out: they have no instance to run a job', async () => {
    const { jobs } = await explore(PerRequest, Reports);
    expect(jobs.definitions.map((d) => d.name)).toEqual(['reports.build']);
  });
});
