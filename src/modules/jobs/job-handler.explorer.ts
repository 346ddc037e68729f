import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { AppConfig } from '../../config/app-config.js';
import { JOB_HANDLER } from './job-handler.decorator.js';
import { JobsService } from './jobs.service.js';
import type { JobContext } from './jobs.types.js';

type Method = (this: object, data: object, job: JobContext) => Promise<unknown>;

/**
 * Registers every `@JobHandler` method of the app's providers with JobsService while the app
 * initialises, before the queues are set up at bootstrap. Only singletons are searched: a
 * request-scoped provider has no instance to run a job.
 */
@Injectable()
export class JobHandlerExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly jobs: JobsService,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!wrapper.isDependencyTreeStatic() || typeof instance !== 'object' || instance === null) {
        continue;
      }
      for (const key of this.scanner.getAllMethodNames(Object.getPrototypeOf(instance) as object)) {
        const method = (instance as Record<string, Method>)[key]!;
        const declared = this.reflector.get(JOB_HANDLER, method);
        if (declared === undefined) continue;
        const { name, options } = declared;
        this.jobs.register<object>({
          ...(typeof options === 'function' ? options(this.config) : options),
          name,
          handle: async (data, job) => {
            await method.call(instance, data, job);
          },
        });
      }
    }
  }
}
