/** What a handler learns about the job it runs. */
export interface JobContext {
  /** The job's id (a UUID), stable across retries: use it as an idempotency key. */
  id: string;
  name: string;
  /** 0 on the first attempt. */
  retryCount: number;
}

export interface RetryPolicy {
  /** Attempts after the first one; after the last the job ends in state `failed`. */
  limit: number;
  /** Delay before the first retry, in seconds. */
  delaySeconds: number;
  /** Exponential backoff: the delay doubles with each retry (with jitter). */
  backoff: boolean;
}

/** A kind of job: its queue name, what runs it, and how it is retried. */
export interface JobDefinition<T extends object> {
  /** Queue name, `<module>.<action>` by convention (e.g. `mail.send`). */
  name: string;
  handle(data: T, job: JobContext): Promise<void>;
  retry: RetryPolicy;
  /** Longest one attempt may run; past it the attempt counts as failed and is retried. */
  expireInSeconds: number;
  /** Run on a cron schedule (UTC), once per slot across every instance. */
  cron?: string;
  /**
   * Most jobs of this kind one worker process runs at once (each handled and retried on its
   * own); it fetches more as they finish, never waiting for a whole batch. Default 5.
   */
  batchSize?: number;
  /** How often an idle worker looks for new jobs; default 2 (pg-boss's minimum is 0.5). */
  pollingIntervalSeconds?: number;
}

export interface EnqueueOptions {
  /** Not before this instant. */
  startAfter?: Date;
  /** At most one queued job per key and queue (a second enqueue returns null). */
  singletonKey?: string;
}

/** The state of a job as pg-boss keeps it (see README "Background jobs"). */
export type JobState = 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';

export interface JobInfo {
  id: string;
  name: string;
  state: JobState;
  retryCount: number;
  createdOn: Date;
  completedOn: Date | null;
  /** For a failed attempt: `{ message }` of the last error. */
  output: unknown;
}
