import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { actorUserId, type Actor } from '../../common/auth/actor.js';
import { decodeIdCursor, encodeIdCursor, toPage, type Page } from '../../common/http/pagination.js';
import { AppConfig } from '../../config/app-config.js';
import { ActivityType, type WebhookEndpoint } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { PlansService } from '../plans/plans.service.js';
import { RateLimiterService } from '../../common/rate-limit/rate-limiter.service.js';
import { AccessService } from '../access/access.service.js';
import { AuditService } from '../audit/audit.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import { DELIVER_JOB, type DeliverJob } from './webhook-delivery.worker.js';
import { generateWebhookSecret, sealSecret, webhookSealKey } from './webhook-signing.js';
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
import { WebhooksRepository, type DeliveryRow } from './webhooks.repository.js';
import type { WebhookEventType, WebhookPayload } from './webhooks.types.js';

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
 * is refused (429, rolled back). The deliveries are sent by WebhookDeliveryWorker.
 */
@Injectable()
export class WebhooksService {
  private readonly key: Buffer;

  constructor(
    private readonly txHost: TransactionHost,
    private readonly repo: WebhooksRepository,
    private readonly jobs: JobsService,
    private readonly audit: AuditService,
    private readonly limiter: RateLimiterService,
    private readonly config: AppConfig,
    private readonly access: AccessService,
    private readonly plans: PlansService,
  ) {
    this.key = webhookSealKey(config.jwt.secret);
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
      // Endpoints + this one within max_webhooks (402); locks the team row.
      await this.plans.assertRoom(teamId, 'webhooks');
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
