import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import PgBoss from 'pg-boss';
import type pg from 'pg';
import { AppConfig } from '../../config/app-config.js';
import { PG_POOL } from '../../database/database.tokens.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { drizzleDb, poolDb } from './job-queue.js';
import type { EnqueueOptions, JobDefinition, JobInfo, JobState } from './jobs.types.js';

/** Error details kept on a failed attempt: the message only (no stack, no payload). */
function failure(error: unknown): { message: string } {
  return { message: error instanceof Error ? error.message : String(error) };
}

/**
 * The durable job queue (pg-boss in PostgreSQL, schema `JOBS_SCHEMA`).
 *
 * Modules `register` their job kinds while the app initialises (in `onModuleInit`); every
 * process creates the queues and schedules at bootstrap, and runs the handlers when `WORKERS`
 * is on. `enqueue` joins the caller's transaction (TransactionHost): the job exists exactly
 * when the change that caused it commits.
 */
@Injectable()
export class JobsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobsService.name);
  private readonly boss: PgBoss;
  private readonly definitions = new Map<string, JobDefinition<object>>();
  private started = false;

  constructor(
    private readonly config: AppConfig,
    private readonly txHost: TransactionHost,
    @Inject(PG_POOL) pool: pg.Pool,
  ) {
    this.boss = new PgBoss({
      db: poolDb(pool),
      schema: config.jobs.schema,
      // The boot edge installs and migrates the queue's schema (migrateDatabase).
      migrate: false,
      // Maintenance (expiring stuck jobs, archiving) and cron only where jobs run.
      supervise: config.jobs.workers,
      schedule: config.jobs.workers,
    });
    this.boss.on('error', (error) => this.logger.error({ err: error }, 'job queue error'));
  }

  get runsWorkers(): boolean {
    return this.config.jobs.workers;
  }

  /** Declares a job kind; call from a provider's constructor or `onModuleInit`. */
  register<T extends object>(definition: JobDefinition<T>): void {
    if (this.started) throw new Error(`Job ${definition.name} registered after start`);
    if (this.definitions.has(definition.name)) {
      throw new Error(`Job ${definition.name} registered twice`);
    }
    this.definitions.set(definition.name, definition as unknown as JobDefinition<object>);
  }

  /**
   * Queues a job in the current transaction (or on its own outside one). Returns its id, or
   * null when `singletonKey` found one already queued.
   */
  async enqueue<T extends object>(
    name: string,
    data: T,
    options: EnqueueOptions = {},
  ): Promise<string | null> {
    if (!this.definitions.has(name)) throw new Error(`Unknown job ${name}`);
    return this.boss.send(name, data, {
      db: drizzleDb(this.txHost.db),
      ...(options.startAfter ? { startAfter: options.startAfter } : {}),
      ...(options.singletonKey ? { singletonKey: options.singletonKey } : {}),
    });
  }

  /** A job by id, also once archived; null when unknown or deleted by retention. */
  async find(name: string, id: string): Promise<JobInfo | null> {
    const job = await this.boss.getJobById<object>(name, id, { includeArchive: true });
    if (!job) return null;
    return {
      id: job.id,
      name: job.name,
      state: job.state as JobState,
      retryCount: job.retryCount,
      createdOn: job.createdOn,
      completedOn: job.completedOn,
      output: job.output,
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    this.started = true;
    await this.boss.start();
    for (const definition of this.definitions.values()) {
      const queue = {
        name: definition.name,
        retryLimit: definition.retry.limit,
        retryDelay: definition.retry.delaySeconds,
        retryBackoff: definition.retry.backoff,
        expireInSeconds: definition.expireInSeconds,
      };
      // Idempotent; the update applies a changed retry policy to an existing queue.
      await this.boss.createQueue(definition.name, queue);
      await this.boss.updateQueue(definition.name, queue);
    }
    if (!this.config.jobs.workers) return;
    for (const definition of this.definitions.values()) {
      if (definition.cron !== undefined) await this.boss.schedule(definition.name, definition.cron);
      await this.boss.work<object>(
        definition.name,
        {
          batchSize: definition.batchSize ?? 5,
          pollingIntervalSeconds: definition.pollingIntervalSeconds ?? 2,
          includeMetadata: true,
        },
        (jobs) => this.runBatch(definition, jobs),
      );
    }
  }

  /**
   * Stops fetching, lets in-flight jobs finish within JOBS_SHUTDOWN_TIMEOUT_MS, then fails the
   * rest (they are retried). Before the HTTP server and the pool close: handlers may still use
   * the database.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.started) return;
    await this.boss.stop({
      graceful: true,
      close: false,
      wait: true,
      timeout: this.config.jobs.shutdownTimeoutMs,
    });
  }

  /**
   * Each job of a batch succeeds or fails on its own: a failed one is failed here (retried by
   * its policy); pg-boss then completes the batch, which only touches jobs still active.
   */
  private async runBatch(
    definition: JobDefinition<object>,
    jobs: PgBoss.JobWithMetadata<object>[],
  ): Promise<void> {
    await Promise.all(
      jobs.map(async (job) => {
        try {
          await definition.handle(job.data, {
            id: job.id,
            name: job.name,
            retryCount: job.retryCount,
          });
        } catch (error) {
          const last = job.retryCount >= job.retryLimit;
          this.logger[last ? 'error' : 'warn'](
            { err: error, jobId: job.id, attempt: job.retryCount + 1 },
            last ? `job ${job.name} failed for good` : `job ${job.name} failed; will retry`,
          );
          await this.boss.fail(job.name, job.id, failure(error));
        }
      }),
    );
  }
}
