import { Reflector } from '@nestjs/core';
import type { AppConfig } from '../../config/app-config.js';
import type { JobContext, JobDefinition } from './jobs.types.js';

/** How a job kind is scheduled, run and retried: a JobDefinition but its name and handler. */
export type JobOptions = Omit<JobDefinition<object>, 'name' | 'handle'>;

export interface JobHandlerMetadata {
  name: string;
  /** The options, or a function of the configuration that returns them. */
  options: JobOptions | ((config: AppConfig) => JobOptions);
}

export const JOB_HANDLER = Reflector.createDecorator<JobHandlerMetadata>();

/**
 * Declares the decorated method of a provider as the handler of job kind `name`: the jobs
 * module finds it at start-up (JobHandlerExplorer) and registers it with `options`. The method
 * gets the job's data and context; it resolves when done and throws to have the job retried.
 */
export function JobHandler(
  name: string,
  options: JobHandlerMetadata['options'],
): <M extends (data: never, job: JobContext) => Promise<unknown>>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void {
  return (target, key, descriptor) => JOB_HANDLER({ name, options })(target, key, descriptor);
}
