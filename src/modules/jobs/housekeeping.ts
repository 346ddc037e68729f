import type { JobOptions } from './job-handler.decorator.js';

/** Rows per statement: each batch is its own short statement, well under the statement timeout. */
export const HOUSEKEEPING_BATCH = 1000;

/** Housekeeping jobs run hourly, a few minutes past the hour (UTC), once across instances. */
export const HOUSEKEEPING_CRON = '7 * * * *';

/** The options of every housekeeping job: `@JobHandler(name, HOUSEKEEPING_JOB)`. */
export const HOUSEKEEPING_JOB: JobOptions = {
  cron: HOUSEKEEPING_CRON,
  retry: { limit: 3, delaySeconds: 60, backoff: true },
  expireInSeconds: 15 * 60,
  batchSize: 1,
  pollingIntervalSeconds: 10,
};

/** Repeats `step(limit)` until it handles fewer than `limit` rows; returns the total. */
export async function inBatches(step: (limit: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const count = await step(HOUSEKEEPING_BATCH);
    total += count;
    if (count < HOUSEKEEPING_BATCH) return total;
  }
}
