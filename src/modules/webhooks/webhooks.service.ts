import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { actorUserId, type Actor } from '../../common/auth/actor.js';
import { decodeIdCursor, encodeIdCursor, toPage, type Page } from '../../common/http/pagination.js';
import { AppConfig } from '../../config/app-config.js';
import { ActivityType, type WebhookEndpoint } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { RateLimiterService } from '../../common/rate-limit/rate-limiter.service.js';
import { AccessService } from '../access/access.service.js';
import { AuditService } from '../audit/audit.service.js';
import { HOUSEKEEPING_CRON } from '../jobs/housekeeping.js';
import { JobsService } from '../jobs/jobs.service.js';
import { postWebhook } from './webhook-sender.js';
import {
  generateWebhookSecret,
  sealSecret,
  unsealSecret,
  webhookHeaders,
  webhookSealKey,
} from './webhook-signing.js';
import { checkWebhookUrl } from './webhook-target.js';
import type {
  CreatedWebhookDto,
  CreateWebhookDto,
  RedeliveryDto,
  UpdateWebhookDto,
  WebhookDeliveryDto,
  WebhookDto,
  WebhookSecretDto,
} from './webhooks.dto.js';
import { WebhookErrors } from './webhooks.errors.js';
import {
  WebhooksRepository,
  type AttemptOutcome,
  type DeliveryRow,
} from './webhooks.repository.js';
import type { WebhookEventType, WebhookPayload } from './webhooks.types.js';

export const DELIVER_JOB = 'webhooks.deliver';
export const WEBHOOKS_SWEEP_JOB = 'webhooks.sweep';

/**
 * Wakes an endpoint: if it is free, its next due delivery is attempted. `{deliveryId}` is the
 * shape queued by earlier versions (one job per attempt); it wakes that delivery's endpoint.
 */
type DeliverJob = { endpointId: number } | { deliveryId: number; attempt: number };

/**
 * How much longer than the HTTP timeout an attempt holds its endpoint: the database work
 * around it. Past the hold, a worker that died mid-attempt no longer blocks the endpoint.
 */
const HOLD_MARGIN_MS = 30_000;

/** A due delivery waiting this long on a free endpoint has lost its wake-up (WEBHOOKS_SWEEP_JOB). */
const STRANDED_AFTER_MS = 10 * 60 * 1000;

/**
 * Events of a team's own requests count against WEBHOOKS_EVENT_RATE_LIMIT. A subscription
 * change comes from Stripe's webhook, not from the team: refusing it would only make Stripe
 * send it again.
 */
function rateLimited(type: WebhookEventType): boolean {
  return type !== 'subscription.updated';
}

/** How long the previous secret keeps signing (a second signature) after a rotation. */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

function toWebhookDto(endpoint: WebhookEndpoint): WebhookDto {
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    events: endpoint.events,
    enabled: endpoint.enabled,
    createdAt: endpoint.createdAt,
    updatedAt: endpoint.updatedAt,
  };
}

function toDeliveryDto(row: DeliveryRow): WebhookDeliveryDto {
  return {
    id: row.id,
    eventId: row.eventId,
    eventType: row.eventType,
    status: row.status,
    attempts: row.attempts,
    lastStatusCode: row.lastStatusCode,
    lastError: row.lastError,
    nextAttemptAt: row.nextAttemptAt,
    createdAt: row.createdAt,
  };
}

function sameEvents(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((type) => b.includes(type));
}

/**
 * Outgoing webhooks: a team's endpoints, its events and their deliveries (tables
 * webhook_endpoints, webhook_events, webhook_deliveries).
 *
 * `emit` is called by the services that own a change (teams, invitations, billing), inside
 * the transaction of that change: it stores the event, one delivery per enabled endpoint
 * subscribed to the type, and wakes each endpoint (a `webhooks.deliver` job). A rollback
 * leaves no trace; once committed, nothing is lost (the job queue is in the same database).
 * A team's changes may produce WEBHOOKS_EVENT_RATE_LIMIT events a minute; past it the change
 * is refused (429, rolled back).
 *
 * Delivery: each endpoint's pending deliveries are its queue, sent one at a time in the order
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
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);
  private readonly key: Buffer;
  /** How long one attempt holds its endpoint (WEBHOOKS_TIMEOUT_MS + HOLD_MARGIN_MS). */
  private readonly holdMs: number;

  constructor(
    private readonly txHost: TransactionHost,
    private readonly repo: WebhooksRepository,
    private readonly jobs: JobsService,
    private readonly audit: AuditService,
    private readonly limiter: RateLimiterService,
    private readonly config: AppConfig,
    private readonly access: AccessService,
  ) {
    this.key = webhookSealKey(config.jwt.secret);
    this.holdMs = config.webhooks.timeoutMs + HOLD_MARGIN_MS;
    jobs.register<DeliverJob>({
      name: DELIVER_JOB,
      handle: (data) => this.wake(data),
      // Only for a crash or a database error mid-job; HTTP failures are scheduled by `wake`.
      // A retry starts after the failed attempt's hold has lapsed, so it finds the endpoint free.
      retry: { limit: 5, delaySeconds: Math.ceil(this.holdMs / 1000), backoff: true },
      // The attempt's own timeout plus room for the database work around it.
      expireInSeconds: Math.ceil(config.webhooks.timeoutMs / 1000) + 60,
      // The global cap of this process; each endpoint gets one attempt at a time.
      batchSize: config.webhooks.concurrency,
      pollingIntervalSeconds: 1,
    });
    jobs.register({
      name: WEBHOOKS_SWEEP_JOB,
      cron: HOUSEKEEPING_CRON,
      handle: () => this.wakeStranded(new Date()).then(() => undefined),
      retry: { limit: 3, delaySeconds: 60, backoff: true },
      expireInSeconds: 15 * 60,
      batchSize: 1,
      pollingIntervalSeconds: 10,
    });
  }

  /**
   * Records `type` for the team's subscribed endpoints and queues their deliveries, in the
   * caller's transaction. `data` is the changed object as the API shows it. Nothing is stored
   * (nor counted) when no enabled endpoint of the team subscribes to `type`. Throws the 429
   * `RateLimitedError` past the team's WEBHOOKS_EVENT_RATE_LIMIT, which rolls the change back.
   * Only the team's own management counts (`counted`, default true): a change the team did not
   * make (an invitee joining, a member leaving, the back office) is never refused for it.
   */
  async emit(
    teamId: number,
    type: WebhookEventType,
    data: unknown,
    { counted = true }: { counted?: boolean } = {},
  ): Promise<void> {
    await this.txHost.transaction(async () => {
      const endpoints = await this.repo.subscribedEndpoints(teamId, type);
      if (endpoints.length === 0) return;
      if (counted && rateLimited(type)) await this.limiter.consumeTeamEvent(teamId);
      const now = new Date();
      const payload: WebhookPayload = {
        id: `evt_${randomBytes(16).toString('base64url')}`,
        type,
        createdAt: now.toISOString(),
        teamId,
        // As the API would serialise it (dates as ISO strings).
        data: JSON.parse(JSON.stringify(data ?? null)) as unknown,
      };
      await this.repo.insertEvent({ id: payload.id, teamId, type, payload, createdAt: now });
      const deliveries = await this.repo.insertDeliveries(
        endpoints.map((endpoint) => ({
          endpointId: endpoint.id,
          eventId: payload.id,
          nextAttemptAt: now,
        })),
      );
      for (const delivery of deliveries) {
        await this.jobs.enqueue<DeliverJob>(DELIVER_JOB, { endpointId: delivery.endpointId });
      }
    });
  }

  async list(
    actor: Actor,
    teamId: number,
    query: { limit: number; cursor?: string },
  ): Promise<Page<WebhookDto>> {
    await this.access.requireTeam(actor, teamId, 'webhooks.read');
    const beforeId = decodeIdCursor(query.cursor);
    const rows = await this.repo.listEndpoints(teamId, query.limit + 1, beforeId);
    return toPage(rows, query.limit, toWebhookDto, (row) => encodeIdCursor(row.id));
  }

  /**
   * A new endpoint with a fresh secret (returned this once) and CREATE_WEBHOOK, in one
   * transaction. A user needs a verified email (403 `email.unverified`): an endpoint keeps
   * receiving the team's events whoever signs in later (API.md v1.2, pre-account hijacking).
   */
  async create(actor: Actor, teamId: number, dto: CreateWebhookDto): Promise<CreatedWebhookDto> {
    await this.access.requireTeam(actor, teamId, 'webhooks.create');
    await this.assertTarget(dto.url);
    const secret = generateWebhookSecret();
    const endpoint = await this.txHost.transaction(async () => {
      const row = await this.repo.insertEndpoint({
        teamId,
        url: dto.url,
        description: dto.description ?? null,
        events: [...dto.events],
        secret: sealSecret(this.key, secret),
        createdBy: actorUserId(actor),
      });
      await this.audit.recordFor(actor, { action: ActivityType.CREATE_WEBHOOK, teamId });
      return row;
    });
    return { ...toWebhookDto(endpoint), secret };
  }

  /** Changes what was sent; UPDATE_WEBHOOK only when something actually changed. */
  async update(
    actor: Actor,
    teamId: number,
    webhookId: number,
    dto: UpdateWebhookDto,
  ): Promise<WebhookDto> {
    await this.access.requireTeam(actor, teamId, 'webhooks.update');
    if (dto.url !== undefined) await this.assertTarget(dto.url);
    return this.txHost.transaction(async () => {
      const endpoint = await this.repo.findEndpointForUpdate(teamId, webhookId);
      if (!endpoint) throw WebhookErrors.notFound();
      const changes: Partial<Pick<WebhookEndpoint, 'url' | 'description' | 'events' | 'enabled'>> =
        {};
      if (dto.url !== undefined && dto.url !== endpoint.url) changes.url = dto.url;
      if (dto.description !== undefined && dto.description !== endpoint.description) {
        changes.description = dto.description;
      }
      if (dto.events !== undefined && !sameEvents(dto.events, endpoint.events)) {
        changes.events = [...dto.events];
      }
      if (dto.enabled !== undefined && dto.enabled !== endpoint.enabled)
        changes.enabled = dto.enabled;
      if (Object.keys(changes).length === 0) return toWebhookDto(endpoint);
      const updated = await this.repo.updateEndpoint(endpoint.id, changes, new Date());
      await this.audit.recordFor(actor, { action: ActivityType.UPDATE_WEBHOOK, teamId });
      return toWebhookDto(updated);
    });
  }

  /** Back office: stops sending to an endpoint (the owners can enable it again). */
  async disable(actor: Actor, teamId: number, webhookId: number): Promise<WebhookDto> {
    return this.update(actor, teamId, webhookId, { enabled: false });
  }

  /** Deletes the endpoint and its delivery log (pending deliveries are dropped). */
  async remove(actor: Actor, teamId: number, webhookId: number): Promise<void> {
    await this.access.requireTeam(actor, teamId, 'webhooks.update');
    await this.txHost.transaction(async () => {
      if (!(await this.repo.deleteEndpoint(teamId, webhookId))) throw WebhookErrors.notFound();
      await this.audit.recordFor(actor, { action: ActivityType.DELETE_WEBHOOK, teamId });
    });
  }

  /**
   * For a password reset (the auth module): deletes every endpoint `userId` set up before
   * `before` (their address was not verified yet), in any team, each with DELETE_WEBHOOK in
   * the user's name, inside the caller's transaction. Pending deliveries go with them.
   */
  async removeCreatedBefore(userId: number, before: Date, ipAddress: string | null): Promise<void> {
    await this.txHost.transaction(async () => {
      for (const endpoint of await this.repo.deleteCreatedBy(userId, before)) {
        await this.audit.recordSystem({
          action: ActivityType.DELETE_WEBHOOK,
          userId,
          teamId: endpoint.teamId,
          ipAddress,
        });
      }
    });
  }

  /**
   * A new secret, returned this once. The previous one keeps signing for 24 hours (a second
   * signature in `webhook-signature`) so receivers can switch without dropping events; a
   * second rotation within that window ends the first one's overlap.
   */
  async rotateSecret(actor: Actor, teamId: number, webhookId: number): Promise<WebhookSecretDto> {
    await this.access.requireTeam(actor, teamId, 'webhooks.update');
    const secret = generateWebhookSecret();
    await this.txHost.transaction(async () => {
      const endpoint = await this.repo.findEndpointForUpdate(teamId, webhookId);
      if (!endpoint) throw WebhookErrors.notFound();
      const now = new Date();
      await this.repo.updateEndpoint(
        endpoint.id,
        {
          secret: sealSecret(this.key, secret),
          previousSecret: endpoint.secret,
          previousSecretExpiresAt: new Date(now.getTime() + ROTATION_OVERLAP_MS),
        },
        now,
      );
      await this.audit.recordFor(actor, { action: ActivityType.UPDATE_WEBHOOK, teamId });
    });
    return { secret };
  }

  async listDeliveries(
    actor: Actor,
    teamId: number,
    webhookId: number,
    query: { limit: number; cursor?: string },
  ): Promise<Page<WebhookDeliveryDto>> {
    await this.access.requireTeam(actor, teamId, 'webhooks.read');
    const beforeId = decodeIdCursor(query.cursor);
    const endpoint = await this.repo.findEndpoint(teamId, webhookId);
    if (!endpoint) throw WebhookErrors.notFound();
    const rows = await this.repo.listDeliveries(endpoint.id, query.limit + 1, beforeId);
    return toPage(rows, query.limit, toDeliveryDto, (row) => encodeIdCursor(row.id));
  }

  /**
   * Queues one more attempt of the delivery now (same event id and body), whatever its status.
   * A failed one that fails again stays failed; a pending one continues its retry schedule.
   */
  async redeliver(
    actor: Actor,
    teamId: number,
    webhookId: number,
    deliveryId: number,
  ): Promise<RedeliveryDto> {
    await this.access.requireTeam(actor, teamId, 'webhooks.update');
    return this.txHost.transaction(async () => {
      const endpoint = await this.repo.findEndpoint(teamId, webhookId);
      if (!endpoint) throw WebhookErrors.notFound();
      if (!endpoint.enabled) throw WebhookErrors.disabled();
      const delivery = await this.repo.findDeliveryForUpdate(endpoint.id, deliveryId);
      if (!delivery) throw WebhookErrors.deliveryNotFound();
      await this.repo.requeueDelivery(delivery.id, new Date());
      await this.jobs.enqueue<DeliverJob>(DELIVER_JOB, { endpointId: endpoint.id });
      return { deliveryId: delivery.id, status: 'pending' as const };
    });
  }

  /**
   * Wakes an endpoint: holds it if it is free and has a delivery due, attempts that delivery,
   * records the outcome and releases the endpoint (paused after a failure), in one transaction
   * with the next wake-up. A busy endpoint is left to its holder, which wakes it again when
   * done; an endpoint with nothing due yet was woken for the time its next delivery is due.
   */
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

  private async assertTarget(url: string): Promise<void> {
    const problem = await checkWebhookUrl(url, this.config.webhooks.allowPrivate);
    if (problem === undefined) return;
    const details = [{ field: 'url', message: '' }];
    switch (problem) {
      case 'invalid_url':
        details[0]!.message = this.config.webhooks.allowPrivate
          ? 'url must be an absolute http:// or https:// URL without credentials'
          : 'url must be an absolute https:// URL without credentials';
        throw WebhookErrors.invalidUrl(undefined, details);
      case 'forbidden_target':
        details[0]!.message = 'url must not point to a loopback, private or link-local address';
        throw WebhookErrors.forbiddenTarget(undefined, details);
      case 'unresolvable_host':
        details[0]!.message = "url's host name does not resolve";
        throw WebhookErrors.unresolvableHost(undefined, details);
    }
  }
}
