import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import PgBoss from 'pg-boss';
import type pg from 'pg';
import { AppConfig } from '../../config/app-config.js';
import { createPool, endPool } from '../../database/database.connection.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { withAdvisoryLock } from '../../database/advisory-lock.js';
import {
  runTracedJob,
  TRACE_CONTEXT_KEY,
  traceCarrier,
  type TraceCarrier,
} from '../../common/tracing/tracing.js';
import { drizzleDb, poolDb } from './job-queue.js';
import type { EnqueueOptions, JobDefinition, JobInfo, JobState } from './jobs.types.js';

/** Connections of the queue's pool: one per polling queue plus maintenance and cron. */
const JOBS_POOL_MAX = 4;

/** Error details kept on a failed attempt: the message only (no stack, no payload). */
function failure(error: unknown): { message: string } {
  return { message: error instanceof Error ? error.message : String(error) };
}

/**
 * The durable job queue (pg-boss in PostgreSQL, schema `JOBS_SCHEMA`).
 *
 * Job kinds are declared with `@JobHandler` on the method that handles them and registered
 * while the app initialises (JobHandlerExplorer); every process creates the queues and
 * schedules at bootstrap, and runs the handlers when `WORKERS` is on. `enqueue` joins the caller's transaction (TransactionHost): the job exists exactly
 * when the change that caused it commits.
 */
@Injectable()
export class JobsService
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger(JobsService.name);
  private readonly boss: PgBoss;
  private readonly definitions = new Map<string, JobDefinition<object>>();
  private started = false;
  private stopping = false;
  /** Set once shutdown is over: attempts still running were failed and returned to the queue. */
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  private readonly sleepers = new Set<() => void>();
  /** Attempts running now: job id -> queue name. */
  private readonly inFlight = new Map<string, string>();

  /**
   * The queue's own small pool (fetching, completing, maintenance, cron, the set-up lock):
   * polling workers never take a connection a request is waiting for. It is on the direct
   * connection (DATABASE_DIRECT_URL, default DATABASE_URL), like the rest of the queue's
   * upkeep. Jobs enqueued by a request use its transaction (DATABASE_URL).
   */
  private readonly pool: pg.Pool;

  constructor(
    private readonly config: AppConfig,
    private readonly txHost: TransactionHost,
  ) {
    if (config.databaseDirectUrl === undefined)
      throw new Error('No database URL (see DatabaseConnection)');
    this.pool = createPool(config.databaseDirectUrl, {
      pooler: config.databaseDirectPooler,
      max: JOBS_POOL_MAX,
      statementTimeoutMs: config.databaseStatementTimeoutMs,
      applicationName: 'nest-saas-jobs',
    });
    this.boss = new PgBoss({
      db: poolDb(this.pool),
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

  /** Declares a job kind, before bootstrap (JobHandlerExplorer calls it for `@JobHandler`s). */
  register<T extends object>(definition: JobDefinition<T>): void {
    if (this.started) throw new Error(`Job ${definition.name} registered after start`);
    if (this.definitions.has(definition.name)) {
      throw new Error(`Job ${definition.name} registered twice`);
    }
    this.definitions.set(definition.name, definition);
  }

  /**
   * Queues a job in the current transaction (or on its own outside one). Returns its id, or
   * null when `singletonKey` found one already queued. With tracing on, the job's data also
   * carries the trace context of the caller (TRACE_CONTEXT_KEY), so its run joins that trace.
   */
  async enqueue<T extends object>(
    name: string,
    data: T,
    options: EnqueueOptions = {},
  ): Promise<string | null> {
    if (!this.definitions.has(name)) throw new Error(`Unknown job ${name}`);
    const carrier = traceCarrier();
    const payload = carrier === undefined ? data : { ...data, [TRACE_CONTEXT_KEY]: carrier };
    return this.boss.send(name, payload, {
      db: drizzleDb(this.txHost.db),
      ...(options.startAfter ? { startAfter: options.startAfter } : {}),
      ...(options.singletonKey ? { singletonKey: options.singletonKey } : {}),
    });
  }

  /**
   * Jobs per queue and state (`created`/`retry`: waiting, `active`, `failed`, ...), in one
   * query on the queue's table: the queue depth and failures for GET /metrics.
   */
  async stateCounts(): Promise<{ queue: string; state: JobState; count: number }[]> {
    const { rows } = await this.pool.query<{ queue: string; state: JobState; count: number }>(
      `select name as queue, state::text as state, count(*)::int as count
         from "${this.config.jobs.schema}".job group by name, state`,
    );
    return rows;
  }

  /** A job by id, also once archived; null when unknown or deleted by retention. */
  async find(name: string, id: string): Promise<JobInfo | null> {
    const job = await this.boss.getJobById<object>(name, id, { includeArchive: true });
    if (!job) return null;
    return {
      id: job.id,
      name: job.name,
      state: job.state,
      retryCount: job.retryCount,
      createdOn: job.createdOn,
      completedOn: job.completedOn,
      output: job.output,
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    this.started = true;
    await this.boss.start();
    // The queues are set up under an advisory lock per JOBS_SCHEMA, so instances that start
    // together (replicas of a deploy, an API and a worker) set them up one after the other:
    // pg-boss creates each queue's partition table and attaches it to its job table, and two
    // processes doing that at once deadlock in PostgreSQL; the one chosen as the victim failed
    // to start ("deadlock detected", seen in the multi-process e2e).
    await withAdvisoryLock(
      this.pool,
      `nest-saas:jobs-setup:${this.config.jobs.schema}`,
      async () => {
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
          if (this.config.jobs.workers && definition.cron !== undefined) {
            await this.boss.schedule(definition.name, definition.cron);
          }
        }
      },
    );
    if (!this.config.jobs.workers) return;
    for (const definition of this.definitions.values()) {
      this.loops.push(this.workLoop(definition));
    }
  }

  /**
   * Stops fetching, lets in-flight jobs finish within JOBS_SHUTDOWN_TIMEOUT_MS, then fails the
   * rest (they are retried by the next worker). Runs before the HTTP server and the pool
   * close: handlers may still use the database.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    for (const wake of this.sleepers) wake();
    const loops = Promise.all(this.loops);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      loops.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.config.jobs.shutdownTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      for (const [id, name] of this.inFlight) {
        await this.boss
          .fail(name, id, { message: 'the worker shut down during this attempt' })
          .catch((error: unknown) => this.logger.warn({ err: error }, 'could not return a job'));
      }
      this.logger.warn(`${this.inFlight.size} job(s) still running at shutdown were returned`);
    }
    this.stopped = true;
    await this.boss.stop({ graceful: false, close: false });
  }

  async onApplicationShutdown(): Promise<void> {
    await endPool(this.pool);
  }

  /**
   * One queue's worker, a pool of `batchSize` slots: fetches as many jobs as slots are free,
   * starts each at once, and fetches again as soon as one finishes (never waiting for a whole
   * batch, so one slow job holds one slot, not the queue). With free slots and nothing fetched
   * it waits `pollingIntervalSeconds`, or until a running job ends (it may have queued more).
   *
   * Written over `fetch` instead of pg-boss's `work`: `work` hands a batch to one callback and
   * fetches again only when the whole batch is done (pg-boss 10 has no per-queue concurrency
   * option), and it reports a job's outcome without awaiting it, so a database error at that
   * moment is an unhandled rejection that ends the process.
   */
  private async workLoop(definition: JobDefinition<object>): Promise<void> {
    const slots = definition.batchSize ?? 5;
    const idleMs = (definition.pollingIntervalSeconds ?? 2) * 1000;
    const running = new Set<Promise<void>>();
    let slotFreed: (() => void) | undefined;
    while (!this.stopping) {
      const free = slots - running.size;
      let fetched = 0;
      if (free > 0) {
        let jobs: PgBoss.JobWithMetadata<object>[] = [];
        try {
          jobs = await this.boss.fetch<object>(definition.name, {
            batchSize: free,
            includeMetadata: true,
          });
        } catch (error) {
          this.logger.warn({ err: error }, `could not fetch ${definition.name} jobs`);
        }
        fetched = jobs.length;
        // Fetched jobs run even when shutdown began meanwhile: it waits for them within its bound.
        for (const job of jobs) {
          const run: Promise<void> = this.runJob(definition, job).finally(() => {
            running.delete(run);
            slotFreed?.();
          });
          running.add(run);
        }
      }
      // Every slot taken, or the queue looked empty: wait for a slot (or the poll interval).
      if (fetched < free || running.size >= slots) {
        const slotFreeing = new Promise<void>((resolve) => (slotFreed = resolve));
        await (running.size >= slots ? this.until(slotFreeing) : this.idle(idleMs, slotFreeing));
        slotFreed = undefined;
      }
    }
    await Promise.all(running);
  }

  /** One attempt: completed when the handler resolves, failed (retried by policy) when it throws. */
  private async runJob(
    definition: JobDefinition<object>,
    job: PgBoss.JobWithMetadata<object>,
  ): Promise<void> {
    this.inFlight.set(job.id, job.name);
    const context = { id: job.id, name: job.name, retryCount: job.retryCount };
    // Scheduled (cron) jobs have no data.
    let data = job.data as object | null;
    let queuedBy: TraceCarrier | undefined;
    if (data !== null && TRACE_CONTEXT_KEY in data) {
      ({ [TRACE_CONTEXT_KEY]: queuedBy, ...data } = data as Record<string, unknown> & {
        [TRACE_CONTEXT_KEY]?: TraceCarrier;
      });
    }
    let outcome: { ok: true } | { ok: false; error: unknown };
    try {
      await runTracedJob(context, queuedBy, () => definition.handle(data as object, context));
      outcome = { ok: true };
    } catch (error) {
      outcome = { ok: false, error };
    }
    // Past the shutdown bound the attempt was already returned to the queue.
    if (this.stopped) return;
    this.inFlight.delete(job.id);
    try {
      if (outcome.ok) {
        await this.boss.complete(job.name, job.id);
      } else {
        const last = job.retryCount >= job.retryLimit;
        this.logger[last ? 'error' : 'warn'](
          { err: outcome.error, jobId: job.id, attempt: job.retryCount + 1 },
          last ? `job ${job.name} failed for good` : `job ${job.name} failed; will retry`,
        );
        await this.boss.fail(job.name, job.id, failure(outcome.error));
      }
    } catch (error) {
      // The job stays active until it expires (expireInSeconds), then pg-boss retries it.
      this.logger.warn({ err: error, jobId: job.id }, `could not record the outcome of a job`);
    }
  }

  /** Resolves after `ms`, when `early` resolves, or when shutdown begins, whichever is first. */
  private idle(ms: number, early?: Promise<void>): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
      void early?.then(wake);
    });
  }

  /** Resolves when `event` resolves or when shutdown begins. */
  private until(event: Promise<void>): Promise<void> {
    return this.idle(2 ** 31 - 1, event);
  }
}
