import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import type { WebhookEndpoint } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { HOUSEKEEPING_JOB } from '../jobs/housekeeping.js';
import { JobHandler, type JobOptions } from '../jobs/job-handler.decorator.js';
import { JobsService } from '../jobs/jobs.service.js';
import { postWebhook } from './webhook-sender.js';
import { unsealSecret, webhookHeaders, webhookSealKey } from './webhook-signing.js';
import { WebhooksRepository, type AttemptOutcome } from './webhooks.repository.js';

export const DELIVER_JOB = 'webhooks.deliver';
export const WEBHOOKS_SWEEP_JOB = 'webhooks.sweep';

/**
 * Wakes an endpoint: if it is free, its next due delivery is attempted. `{deliveryId}` is the
 * shape queued by earlier versions (one job per attempt); it wakes that delivery's endpoint.
 */
export type DeliverJob = { endpointId: number } | { deliveryId: number; attempt: number };

/**
 * How much longer than the HTTP timeout an attempt holds its endpoint: the database work
 * around it. Past the hold, a worker that died mid-attempt no longer blocks the endpoint.
 */
const HOLD_MARGIN_MS = 30_000;

/** A due delivery waiting this long on a free endpoint has lost its wake-up (WEBHOOKS_SWEEP_JOB). */
const STRANDED_AFTER_MS = 10 * 60 * 1000;

/** How long one attempt holds its endpoint (WEBHOOKS_TIMEOUT_MS + HOLD_MARGIN_MS). */
function holdMsOf(config: AppConfig): number {
  return config.webhooks.timeoutMs + HOLD_MARGIN_MS;
}

function deliverJobOptions(config: AppConfig): JobOptions {
  return {
    // Only for a crash or a database error mid-job; HTTP failures are scheduled by `wake`.
    // A retry starts after the failed attempt's hold has lapsed, so it finds the endpoint free.
    retry: { limit: 5, delaySeconds: Math.ceil(holdMsOf(config) / 1000), backoff: true },
    // The attempt's own timeout plus room for the database work around it.
    expireInSeconds: Math.ceil(config.webhooks.timeoutMs / 1000) + 60,
    // The global cap of this process; each endpoint gets one attempt at a time.
    batchSize: config.webhooks.concurrency,
    pollingIntervalSeconds: 1,
  };
}

/**
 * Sends the deliveries WebhooksService records (the `webhooks.deliver` and `webhooks.sweep`
 * jobs). Each endpoint's pending deliveries are its queue, sent one at a time in the order
 * they fell due. A wake-up job holds the endpoint (`busy_until`, in the database, so one
 * attempt at a time across every worker process), sends the next due delivery, releases the
 * endpoint and wakes it again for the next one (queued behind other endpoints' jobs, so
 * endpoints take turns). A wake-up that finds the endpoint busy ends at once: the attempt in
 * flight wakes it again. Each worker runs WEBHOOKS_CONCURRENCY jobs at once and takes new ones
 * as slots free up, so an endpoint that never answers holds one slot, never the queue.
 *
 * A failed attempt (non-2xx, timeout, connection error) schedules the delivery's next one at
 * now + WEBHOOKS_RETRY_DELAYS_SECONDS[n] (`nextAttemptAt`); after the last delay the delivery
 * is `failed`. It also pauses the endpoint for the delay at its failure streak (failed
 * attempts in a row), so an endpoint that keeps failing is tried less and less often, whatever
 * the number of deliveries waiting for it; a success ends the pause. A target the SSRF
 * protection refuses (the host resolves to a private address now) fails the delivery at once.
 * The queue's own retries only cover a crash or a database error while handling a job.
 */
@Injectable()
export class WebhookDeliveryWorker {
  private readonly logger = new Logger(WebhookDeliveryWorker.name);
  private readonly key: Buffer;
  private readonly holdMs: number;

  constructor(
    private readonly txHost: TransactionHost,
    private readonly repo: WebhooksRepository,
    private readonly jobs: JobsService,
    private readonly config: AppConfig,
  ) {
    this.key = webhookSealKey(config.jwt.secret);
    this.holdMs = holdMsOf(config);
  }

  /**
   * Wakes an endpoint: holds it if it is free and has a delivery due, attempts that delivery,
   * records the outcome and releases the endpoint (paused after a failure), in one transaction
   * with the next wake-up. A busy endpoint is left to its holder, which wakes it again when
   * done; an endpoint with nothing due yet was woken for the time its next delivery is due.
   */
  @JobHandler(DELIVER_JOB, deliverJobOptions)
  private async wake(job: DeliverJob): Promise<void> {
    const endpointId =
      'endpointId' in job ? job.endpointId : await this.repo.endpointIdOfDelivery(job.deliveryId);
    if (endpointId === undefined) return;
    const now = new Date();
    const holdUntil = new Date(now.getTime() + this.holdMs);
    const endpoint = await this.repo.holdEndpoint(endpointId, now, holdUntil);
    if (!endpoint) {
      const current = await this.repo.findEndpointById(endpointId);
      if (current && !current.enabled) {
        await this.repo.failPendingDeliveries(endpointId, 'endpoint disabled', now);
      }
      return;
    }
    const row = await this.repo.nextDueDelivery(endpointId, now);
    if (!row) {
      // Held with a delivery due, then it was gone (deleted with its endpoint): nothing to send.
      await this.txHost.transaction(async () => {
        const hold = await this.release(endpoint, holdUntil, 'none', now);
        if (hold.released) await this.wakeLater(endpoint.id, hold.pausedUntil, now);
      });
      return;
    }
    const { delivery, event } = row;
    const result = await this.attempt(endpoint, event.id, event.payload, now);
    const done = new Date();
    const retryDelays = this.config.webhooks.retryDelaysSeconds;
    const delaySeconds = retryDelays[delivery.attempts];
    // Refused or unreadable: no request went out, and another attempt cannot help.
    const reachedOut = !result.final && !result.refused;
    const retry = !result.ok && reachedOut && delaySeconds !== undefined;
    const outcome: AttemptOutcome = {
      status: result.ok ? 'succeeded' : retry ? 'pending' : 'failed',
      statusCode: result.statusCode,
      error: result.error,
      excerpt: result.excerpt,
      nextAttemptAt: retry ? new Date(done.getTime() + delaySeconds * 1000) : null,
    };
    await this.txHost.transaction(async () => {
      // The endpoint's row before the delivery's: the order deleting the endpoint locks them in.
      const request = result.ok ? 'succeeded' : reachedOut ? 'failed' : 'none';
      const hold = await this.release(endpoint, holdUntil, request, done);
      await this.repo.recordAttempt(delivery.id, delivery.attempts, outcome, done);
      if (hold.released) await this.wakeLater(endpoint.id, hold.pausedUntil, done);
    });
    if (!result.ok) {
      this.logger.warn(
        { deliveryId: delivery.id, endpointId, attempt: delivery.attempts + 1 },
        `webhook delivery attempt failed: ${result.error ?? 'unknown'}`,
      );
    }
  }

  /**
   * Ends this attempt's hold on the endpoint: free after a success (or when no request went
   * out), paused after a failed request (WEBHOOKS_RETRY_DELAYS_SECONDS at its failure streak).
   * `released` is false when the hold had lapsed and another worker holds the endpoint now
   * (that one wakes it next).
   */
  private async release(
    endpoint: WebhookEndpoint,
    holdUntil: Date,
    request: 'succeeded' | 'failed' | 'none',
    now: Date,
  ): Promise<{ released: boolean; pausedUntil: Date | null }> {
    const delays = this.config.webhooks.retryDelaysSeconds;
    const failureStreak =
      request === 'succeeded'
        ? 0
        : request === 'failed'
          ? endpoint.failureStreak + 1
          : endpoint.failureStreak;
    const pauseSeconds =
      request === 'failed' ? (delays[Math.min(failureStreak, delays.length) - 1] ?? 0) : 0;
    const pausedUntil = pauseSeconds > 0 ? new Date(now.getTime() + pauseSeconds * 1000) : null;
    const released = await this.repo.releaseEndpoint(endpoint.id, holdUntil, {
      busyUntil: pausedUntil,
      failureStreak,
    });
    return { released, pausedUntil };
  }

  /**
   * Queues the endpoint's next wake-ups, after an attempt (in its transaction): at the pause's
   * end (a delivery that fell due meanwhile waits for it), and when its next pending delivery
   * falls due (at once if one is due now: it queues behind other endpoints' jobs).
   */
  private async wakeLater(endpointId: number, pausedUntil: Date | null, now: Date): Promise<void> {
    const wakeAt = new Set<number>();
    if (pausedUntil) wakeAt.add(pausedUntil.getTime());
    const nextDue = await this.repo.nextDueAt(endpointId);
    if (nextDue)
      wakeAt.add(Math.max(nextDue.getTime(), pausedUntil?.getTime() ?? 0, now.getTime()));
    for (const at of wakeAt) {
      await this.jobs.enqueue<DeliverJob>(
        DELIVER_JOB,
        { endpointId },
        at > now.getTime() ? { startAfter: new Date(at) } : {},
      );
    }
  }

  @JobHandler(WEBHOOKS_SWEEP_JOB, HOUSEKEEPING_JOB)
  hourly(): Promise<unknown> {
    return this.wakeStranded(new Date());
  }

  /**
   * Hourly (WEBHOOKS_SWEEP_JOB): wakes endpoints whose due deliveries have waited on a free
   * endpoint for STRANDED_AFTER_MS, which happens only when the job of an attempt in flight
   * was lost (its worker died more often than the job is retried). An extra wake-up is
   * harmless. Returns how many endpoints it woke.
   */
  async wakeStranded(now: Date): Promise<number> {
    const ids = await this.repo.strandedEndpoints(new Date(now.getTime() - STRANDED_AFTER_MS), now);
    for (const endpointId of ids) {
      await this.jobs.enqueue<DeliverJob>(DELIVER_JOB, { endpointId });
    }
    if (ids.length > 0) {
      this.logger.warn(`woke ${ids.length} webhook endpoint(s) with stranded deliveries`);
    }
    return ids.length;
  }

  private async attempt(
    endpoint: WebhookEndpoint,
    eventId: string,
    payload: unknown,
    now: Date,
  ): Promise<{
    ok: boolean;
    statusCode: number | null;
    error: string | null;
    excerpt: string | null;
    /** The SSRF protection refused the target: failed at once, not retried. */
    refused: boolean;
    /** Retrying cannot help (the secret cannot be read). */
    final?: boolean;
  }> {
    let secrets: string[];
    try {
      secrets = this.secretsOf(endpoint, now);
    } catch {
      return {
        ok: false,
        statusCode: null,
        error: 'the signing secret cannot be read (JWT_SECRET changed?); rotate the secret',
        excerpt: null,
        refused: false,
        final: true,
      };
    }
    const allowPrivate = this.config.webhooks.allowPrivate;
    if (!allowPrivate && !endpoint.url.startsWith('https://')) {
      return {
        ok: false,
        statusCode: null,
        error: 'refused: not an https:// URL',
        excerpt: null,
        refused: true,
      };
    }
    const body = JSON.stringify(payload);
    const timestamp = Math.floor(now.getTime() / 1000);
    return postWebhook(endpoint.url, webhookHeaders(secrets, eventId, timestamp, body), body, {
      timeoutMs: this.config.webhooks.timeoutMs,
      allowPrivate,
    });
  }

  /** The current secret, plus the previous one during a rotation's overlap. */
  private secretsOf(endpoint: WebhookEndpoint, now: Date): string[] {
    const secrets = [unsealSecret(this.key, endpoint.secret)];
    if (
      endpoint.previousSecret !== null &&
      endpoint.previousSecretExpiresAt !== null &&
      endpoint.previousSecretExpiresAt.getTime() > now.getTime()
    ) {
      secrets.push(unsealSecret(this.key, endpoint.previousSecret));
    }
    return secrets;
  }
}
