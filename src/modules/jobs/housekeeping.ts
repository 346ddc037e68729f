/** Rows per statement: each batch is its own short statement, well under the statement timeout. */
export const HOUSEKEEPING_BATCH = 1000;

/** Housekeeping jobs run hourly, a few minutes past the hour (UTC), once across instances. */
export const HOUSEKEEPING_CRON = '7 * * * *';

/** Repeats `step(limit)` until it handles fewer than `limit` rows; returns the total. */
export async function inBatches(step: (limit: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const count = await step(HOUSEKEEPING_BATCH);
    total += count;
    if (count < HOUSEKEEPING_BATCH) return total;
  }
}
