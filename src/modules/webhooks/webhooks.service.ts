import { Injectable, Logger } from '@nestjs/common';
import { assertMayWrite } from '../../common/auth/staff.js';
import { randomBytes } from 'node:crypto';
import { actorUserId, type Actor } from '../../common/auth/actor.js';
import { decodeIdCursor, encodeIdCursor, toPage, type Page } from '../../common/http/pagination.js';
import { AppConfig } from '../../config/app-config.js';
import { ActivityType, type WebhookEndpoint } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { AuditService } from '../audit/audit.service.js';
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

/** One attempt of one delivery; `attempt` = attempts already recorded when it was queued. */
interface DeliverJob {
  deliveryId: number;
  attempt: number;
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
 * subscribed to the type, and one `webhooks.deliver` job per delivery. A rollback leaves no
 * trace; once committed, nothing is lost (the job queue is in the same database).
 *
 * Each attempt is its own job: a failed attempt (non-2xx, timeout, connection error) queues
 * the next one with `startAfter` = now + WEBHOOKS_RETRY_DELAYS_SECONDS[n], so `nextAttemptAt`
 * is exact; after the last delay the delivery is `failed`. A target the SSRF protection
 * refuses (the host resolves to a private address now) fails the delivery at once. The
 * queue's own retries only cover a crash or a database error while handling a job.
 */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);
  private readonly key: Buffer;

  constructor(
    private readonly txHost: TransactionHost,
    private readonly repo: WebhooksRepository,
    private readonly jobs: JobsService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {
    this.key = webhookSealKey(config.jwt.secret);
    jobs.register<DeliverJob>({
      name: DELIVER_JOB,
      handle: (data) => this.deliver(data),
      // Only for a crash or a database error mid-job; HTTP failures are scheduled by `deliver`.
      retry: { limit: 5, delaySeconds: 30, backoff: true },
      // The attempt's own timeout plus room for the database work around it.
      expireInSeconds: Math.ceil(config.webhooks.timeoutMs / 1000) + 60,
      batchSize: 10,
      pollingIntervalSeconds: 1,
    });
  }

  /**
   * Records `type` for the team's subscribed endpoints and queues their deliveries, in the
   * caller's transaction. `data` is the changed object as the API shows it. Nothing is stored
   * when no enabled endpoint of the team subscribes to `type`.
   */
  async emit(teamId: number, type: WebhookEventType, data: unknown): Promise<void> {
    await this.txHost.transaction(async () => {
      const endpoints = await this.repo.subscribedEndpoints(teamId, type);
      if (endpoints.length === 0) return;
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
        await this.jobs.enqueue<DeliverJob>(DELIVER_JOB, { deliveryId: delivery.id, attempt: 0 });
      }
    });
  }

  async list(
    _actor: Actor,
    teamId: number,
    query: { limit: number; cursor?: string },
  ): Promise<Page<WebhookDto>> {
    const beforeId = decodeIdCursor(query.cursor);
    const rows = await this.repo.listEndpoints(teamId, query.limit + 1, beforeId);
    return toPage(rows, query.limit, toWebhookDto, (row) => encodeIdCursor(row.id));
  }

  /** A new endpoint with a fresh secret (returned this once) and CREATE_WEBHOOK, in one transaction. */
  async create(actor: Actor, teamId: number, dto: CreateWebhookDto): Promise<CreatedWebhookDto> {
    assertMayWrite(actor);
    await this.assertTarget(dto.url);
    const secret = generateWebhookSecret();
    const endpoint = await this.txHost.transaction(async () => {
      const row = await this.repo.insertEndpoint({
        teamId,
        url: dto.url,
        description: dto.description ?? null,
        events: [...dto.events],
        secret: sealSecret(this.key, secret),
      });
      await this.record(actor, teamId, ActivityType.CREATE_WEBHOOK);
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
    assertMayWrite(actor);
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
      await this.record(actor, teamId, ActivityType.UPDATE_WEBHOOK);
      return toWebhookDto(updated);
    });
  }

  /** Back office: stops sending to an endpoint (the owners can enable it again). */
  async disable(actor: Actor, teamId: number, webhookId: number): Promise<WebhookDto> {
    return this.update(actor, teamId, webhookId, { enabled: false });
  }

  /** Deletes the endpoint and its delivery log (pending deliveries are dropped). */
  async remove(actor: Actor, teamId: number, webhookId: number): Promise<void> {
    assertMayWrite(actor);
    await this.txHost.transaction(async () => {
      if (!(await this.repo.deleteEndpoint(teamId, webhookId))) throw WebhookErrors.notFound();
      await this.record(actor, teamId, ActivityType.DELETE_WEBHOOK);
    });
  }

  /**
   * A new secret, returned this once. The previous one keeps signing for 24 hours (a second
   * signature in `webhook-signature`) so receivers can switch without dropping events; a
   * second rotation within that window ends the first one's overlap.
   */
  async rotateSecret(actor: Actor, teamId: number, webhookId: number): Promise<WebhookSecretDto> {
    assertMayWrite(actor);
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
      await this.record(actor, teamId, ActivityType.UPDATE_WEBHOOK);
    });
    return { secret };
  }

  async listDeliveries(
    _actor: Actor,
    teamId: number,
    webhookId: number,
    query: { limit: number; cursor?: string },
  ): Promise<Page<WebhookDeliveryDto>> {
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
    _actor: Actor,
    teamId: number,
    webhookId: number,
    deliveryId: number,
  ): Promise<RedeliveryDto> {
    return this.txHost.transaction(async () => {
      const endpoint = await this.repo.findEndpoint(teamId, webhookId);
      if (!endpoint) throw WebhookErrors.notFound();
      if (!endpoint.enabled) throw WebhookErrors.disabled();
      const delivery = await this.repo.findDeliveryForUpdate(endpoint.id, deliveryId);
      if (!delivery) throw WebhookErrors.deliveryNotFound();
      await this.repo.requeueDelivery(delivery.id, new Date());
      await this.jobs.enqueue<DeliverJob>(DELIVER_JOB, {
        deliveryId: delivery.id,
        attempt: delivery.attempts,
      });
      return { deliveryId: delivery.id, status: 'pending' as const };
    });
  }

  /**
   * One attempt. Skipped when the delivery is gone (endpoint deleted), no longer pending, or
   * already past this attempt (a redelivery and a scheduled retry raced: one sends).
   */
  private async deliver(job: DeliverJob): Promise<void> {
    const row = await this.repo.findDeliveryForJob(job.deliveryId);
    if (!row || row.delivery.status !== 'pending' || row.delivery.attempts !== job.attempt) return;
    const { delivery, endpoint, event } = row;
    if (!endpoint.enabled) {
      await this.repo.failDelivery(delivery.id, 'endpoint disabled', new Date());
      return;
    }
    const started = new Date();
    const result = await this.attempt(endpoint, event.id, event.payload, started);
    const done = new Date();
    const delaySeconds = this.config.webhooks.retryDelaysSeconds[job.attempt];
    const retry = !result.ok && delaySeconds !== undefined && !result.final && !result.refused;
    const outcome: AttemptOutcome = {
      status: result.ok ? 'succeeded' : retry ? 'pending' : 'failed',
      statusCode: result.statusCode,
      error: result.error,
      excerpt: result.excerpt,
      nextAttemptAt: retry ? new Date(done.getTime() + delaySeconds * 1000) : null,
    };
    await this.txHost.transaction(async () => {
      const applied = await this.repo.recordAttempt(delivery.id, job.attempt, outcome, done);
      if (applied && outcome.nextAttemptAt !== null) {
        await this.jobs.enqueue<DeliverJob>(
          DELIVER_JOB,
          { deliveryId: delivery.id, attempt: job.attempt + 1 },
          { startAfter: outcome.nextAttemptAt },
        );
      }
    });
    if (!result.ok) {
      this.logger.warn(
        { deliveryId: delivery.id, endpointId: endpoint.id, attempt: job.attempt + 1 },
        `webhook delivery attempt failed: ${result.error ?? 'unknown'}`,
      );
    }
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

  private async record(actor: Actor, teamId: number, action: ActivityType): Promise<void> {
    const userId = actorUserId(actor);
    await this.audit.record(
      userId === null
        ? { action, userId: null, teamId, ipAddress: actor.ip }
        : { action, userId, teamId, ipAddress: actor.ip },
    );
  }
}
