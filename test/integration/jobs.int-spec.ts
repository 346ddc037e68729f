import { FastifyAdapter } from '@nestjs/platform-fastify';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { sql } from 'drizzle-orm';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/config/app-config.js';
import { ConfigModule } from '../../src/config/config.module.js';
import { DatabaseModule } from '../../src/database/database.module.js';
import { DRIZZLE, type Database, type DbClient } from '../../src/database/database.tokens.js';
import { TransactionHost } from '../../src/database/transaction-host.js';
import { JobsModule } from '../../src/modules/jobs/jobs.module.js';
import { JobHandler } from '../../src/modules/jobs/job-handler.decorator.js';
import { JobsService } from '../../src/modules/jobs/jobs.service.js';
import type { JobContext } from '../../src/modules/jobs/jobs.types.js';
import { freshJobsSchema } from '../support/app.js';

/** Every run of the probe job, by the instance that ran it. */
const runs: { instance: string; id: string; n: number }[] = [];
/** Payload numbers whose first attempt fails (to see the retry). */
const failFirst = new Set<number>();
/** Payload number -> how long its handler takes, in ms. */
const slow = new Map<number, number>();
/** Handler runs that reached their end. */
const finished: { instance: string; n: number }[] = [];

/** A job kind declared like the app's: `@JobHandler` on the method that runs it. */
@Injectable()
class ProbeJobs {
  constructor(private readonly jobs: JobsService) {}

  @JobHandler('test.probe', {
    retry: { limit: 2, delaySeconds: 1, backoff: false },
    expireInSeconds: 30,
    batchSize: 3,
    pollingIntervalSeconds: 0.5,
  })
  async probe(data: { n: number; instance?: string }, job: JobContext): Promise<void> {
    runs.push({ instance: instanceOf(this.jobs), id: job.id, n: data.n });
    if (failFirst.has(data.n) && job.retryCount === 0) throw new Error(`probe ${data.n} fails`);
    await sleep(slow.get(data.n) ?? 5);
    finished.push({ instance: instanceOf(this.jobs), n: data.n });
  }
}

const instances = new WeakMap<JobsService, string>();
function instanceOf(jobs: JobsService): string {
  return instances.get(jobs) ?? '?';
}

@Module({ imports: [JobsModule], providers: [ProbeJobs] })
class ProbeModule {}

interface Instance {
  app: INestApplicationContext;
  jobs: JobsService;
  txHost: TransactionHost;
  db: Database;
}

const open: Instance[] = [];

/** One process's worth of the job queue on `schema`: config, pool, JobsModule and the probe. */
async function start(
  name: string,
  schema: string,
  workers = true,
  env: Record<string, string> = {},
): Promise<Instance> {
  const config = loadConfig({
    ...process.env,
    JOBS_SCHEMA: schema,
    WORKERS: String(workers),
    ...env,
  });
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(config), DatabaseModule, ProbeModule],
  }).compile();
  const app = moduleRef.createNestApplication(new FastifyAdapter(), { logger: false });
  const jobs = app.get(JobsService);
  instances.set(jobs, name);
  await app.init();
  const instance = { app, jobs, txHost: app.get(TransactionHost), db: app.get<Database>(DRIZZLE) };
  open.push(instance);
  return instance;
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
}

async function jobRows(db: DbClient, schema: string) {
  const result = await db.execute<{ id: string; state: string; data: { n: number } }>(
    sql`select id, state, data from ${sql.identifier(schema)}.job where name = 'test.probe'`,
  );
  return result.rows;
}

afterEach(async () => {
  while (open.length > 0) await open.pop()?.app.close();
  runs.length = 0;
  finished.length = 0;
  failFirst.clear();
  slow.clear();
});

afterAll(async () => {
  while (open.length > 0) await open.pop()?.app.close();
});

describe('JobsService.enqueue joins the caller transaction', () => {
  it('commit: exactly one job, run once, and not before the commit', async () => {
    const schema = await freshJobsSchema();
    const a = await start('a', schema);
    let id: string | null = null;
    await a.txHost.transaction(async () => {
      id = await a.jobs.enqueue('test.probe', { n: 1 });
      // Workers poll every 0.5 s; an uncommitted job is invisible to them.
      await sleep(1200);
      expect(runs).toEqual([]);
    });
    expect(id).not.toBeNull();
    await until(() => runs.length === 1);
    expect(runs).toEqual([{ instance: 'a', id, n: 1 }]);
    await until(async () => (await a.jobs.find('test.probe', id ?? ''))?.state === 'completed');
    expect(await jobRows(a.db, schema)).toHaveLength(1);
  });

  it('rollback: no job, nothing runs', async () => {
    const schema = await freshJobsSchema();
    const a = await start('a', schema);
    await expect(
      a.txHost.transaction(async () => {
        await a.jobs.enqueue('test.probe', { n: 2 });
        expect(await jobRows(a.txHost.db, schema)).toHaveLength(1); // in the transaction
        throw new Error('the change fails');
      }),
    ).rejects.toThrow('the change fails');
    expect(await jobRows(a.db, schema)).toEqual([]);
    await sleep(1200);
    expect(runs).toEqual([]);
  });

  it('a failed attempt is retried by the policy and the job keeps its id', async () => {
    const schema = await freshJobsSchema();
    const a = await start('a', schema);
    failFirst.add(3);
    const id = await a.jobs.enqueue('test.probe', { n: 3 });
    await until(async () => (await a.jobs.find('test.probe', id ?? ''))?.state === 'completed');
    expect(runs.map((r) => [r.id, r.n])).toEqual([
      [id, 3],
      [id, 3],
    ]);
    expect((await a.jobs.find('test.probe', id ?? ''))?.retryCount).toBe(1);
  });
});

describe('several workers on one queue', () => {
  it('runs each job exactly once across two instances (and none in a WORKERS=false one)', async () => {
    const schema = await freshJobsSchema();
    const a = await start('a', schema);
    const b = await start('b', schema);
    const api = await start('api', schema, false);
    expect(api.jobs.runsWorkers).toBe(false);
    const total = 40;
    const ids = new Set<string>();
    for (let n = 0; n < total; n++) {
      const id = await api.jobs.enqueue('test.probe', { n });
      if (id !== null) ids.add(id);
    }
    expect(ids.size).toBe(total);
    await until(() => runs.length >= total);
    await sleep(1500); // a duplicate would show up here
    expect(runs).toHaveLength(total);
    expect(new Set(runs.map((r) => r.id))).toEqual(ids);
    expect(new Set(runs.map((r) => r.n)).size).toBe(total);
    expect(runs.some((r) => r.instance === 'api')).toBe(false);
    const rows = await jobRows(a.db, schema);
    expect(rows.filter((r) => r.state === 'completed')).toHaveLength(total);
    void b;
  });
});

describe('a slow job', () => {
  it('holds one slot: the next jobs are fetched as other slots free up, not after it', async () => {
    const schema = await freshJobsSchema();
    const a = await start('a', schema);
    slow.set(20, 4000);
    await a.jobs.enqueue('test.probe', { n: 20 });
    await until(() => runs.some((r) => r.n === 20));
    for (let n = 21; n <= 26; n++) await a.jobs.enqueue('test.probe', { n });
    // Three slots: the slow job keeps one, the other two run the six quick jobs in turn.
    await until(() => finished.length >= 6, 3000);
    expect(finished.map((f) => f.n).sort()).toEqual([21, 22, 23, 24, 25, 26]);
    await until(() => finished.length === 7, 10_000);
  });
});

/** Several queues, like the app's (mail, webhooks, housekeeping...), none polled often. */
@Injectable()
class ManyQueues {
  constructor(jobs: JobsService) {
    for (const name of ['test.q1', 'test.q2', 'test.q3', 'test.q4', 'test.q5']) {
      jobs.register<object>({
        name,
        handle: () => Promise.resolve(),
        retry: { limit: 1, delaySeconds: 1, backoff: false },
        expireInSeconds: 30,
        pollingIntervalSeconds: 5,
      });
    }
  }
}

@Module({ imports: [JobsModule], providers: [ManyQueues] })
class ManyQueuesModule {}

describe('instances starting together', () => {
  it('all start on a fresh schema: the queue set-up runs one instance at a time', async () => {
    const schema = await freshJobsSchema();
    const config = loadConfig({ ...process.env, JOBS_SCHEMA: schema, WORKERS: 'true' });
    const apps = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const moduleRef = await Test.createTestingModule({
          imports: [ConfigModule.forRoot(config), DatabaseModule, ManyQueuesModule],
        }).compile();
        return moduleRef.createNestApplication(new FastifyAdapter(), { logger: false });
      }),
    );
    for (const app of apps) {
      open.push({
        app,
        jobs: app.get(JobsService),
        txHost: app.get(TransactionHost),
        db: app.get<Database>(DRIZZLE),
      });
    }
    // Without the lock, pg-boss's partition DDL of concurrent instances deadlocked and
    // PostgreSQL aborted one of them ("deadlock detected"): that app failed to start.
    const outcomes = await Promise.allSettled(apps.map((app) => app.init()));
    expect(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'started'))).toEqual(
      apps.map(() => 'started'),
    );
    const db = apps[0]?.get<Database>(DRIZZLE);
    const queues = await db?.execute<{ name: string }>(
      sql`select name from ${sql.identifier(schema)}.queue where name like 'test.%' order by name`,
    );
    expect(queues?.rows.map((r) => r.name)).toEqual([
      'test.q1',
      'test.q2',
      'test.q3',
      'test.q4',
      'test.q5',
    ]);
  });
});

describe('graceful shutdown', () => {
  it('lets an in-flight job finish before the app closes', async () => {
    const schema = await freshJobsSchema();
    const a = await start('a', schema);
    slow.set(10, 1500);
    const id = await a.jobs.enqueue('test.probe', { n: 10 });
    await until(() => runs.length === 1);
    await a.app.close();
    open.splice(open.indexOf(a), 1);
    expect(finished).toEqual([{ instance: 'a', n: 10 }]);
    const other = await start('other', schema, false);
    expect((await other.jobs.find('test.probe', id ?? ''))?.state).toBe('completed');
  });

  it('returns a job still running after JOBS_SHUTDOWN_TIMEOUT_MS to the queue, where another worker runs it', async () => {
    const schema = await freshJobsSchema();
    const a = await start('a', schema, true, { JOBS_SHUTDOWN_TIMEOUT_MS: '1000' });
    slow.set(11, 4000);
    const id = await a.jobs.enqueue('test.probe', { n: 11 });
    await until(() => runs.length === 1);
    await a.app.close();
    open.splice(open.indexOf(a), 1);
    expect(finished).toEqual([]);
    slow.delete(11);
    const b = await start('b', schema);
    await until(() => finished.some((f) => f.instance === 'b'), 20_000);
    expect((await b.jobs.find('test.probe', id ?? ''))?.retryCount).toBe(1);
    await until(async () => (await b.jobs.find('test.probe', id ?? ''))?.state === 'completed');
    // The abandoned attempt's handler still runs to its end in this process; let it, and
    // pg-boss's check for its stopped worker, finish before the suite ends.
    await until(() => finished.some((f) => f.instance === 'a'));
    await sleep(1200);
  });
});
