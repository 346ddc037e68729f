import { Body, Get, HttpCode, HttpStatus, Patch, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
} from '@nestjs/swagger';
import type { Actor } from '../../common/auth/actor.js';
import { CurrentActor } from '../../common/decorators/current-actor.decorator.js';
import { PageQueryDto } from '../../common/http/pagination.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { PlanErrors } from '../plans/plans.errors.js';
import { ApiVerifiedEmailRequired } from '../../common/openapi/api-verified-email.decorator.js';
import { ApiIdParam } from '../../common/openapi/api-id-param.decorator.js';
import { TeamRole } from '../access/team-role.decorator.js';
import {
  CreatedWebhookDto,
  CreateWebhookDto,
  RedeliveryDto,
  UpdateWebhookDto,
  WebhookDeliveryPageDto,
  WebhookDto,
  WebhookPageDto,
  WebhookSecretDto,
} from './webhooks.dto.js';
import { WebhookErrors } from './webhooks.errors.js';
import { WebhooksService } from './webhooks.service.js';
import { WEBHOOK_EVENT_TYPES } from './webhooks.types.js';
import { IdParam } from '../../common/http/parse-id.pipe.js';
import { DeleteNoContent } from '../../common/openapi/delete-no-content.decorator.js';
import { TeamController } from '../access/team-controller.decorator.js';

const WEBHOOK_PARAM = ApiIdParam('webhookId', 'Webhook endpoint id');
const URL_ERRORS = [
  WebhookErrors.invalidUrl,
  WebhookErrors.forbiddenTarget,
  WebhookErrors.unresolvableHost,
];
const SIGNING =
  'Every delivery is a POST of `{id: "evt_…", type, createdAt, teamId, data}` signed per Standard Webhooks: headers `webhook-id` (the event id, the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` keyed with the base64-decoded part of the secret after `whsec_`).';

/** A team's outgoing webhook endpoints (owners only), mounted by WebhooksApiModule. */
@TeamController('webhooks', 'webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Get()
  @TeamRole('owner', { apiKey: 'webhooks:write' })
  @ApiOperation({
    summary: "The team's webhook endpoints",
    description: 'Newest first, paginated. Secrets are never listed.',
  })
  @ApiOkResponse({ type: WebhookPageDto })
  list(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @Query() query: PageQueryDto,
  ): Promise<WebhookPageDto> {
    return this.webhooks.list(actor, teamId, query);
  }

  @Post()
  @TeamRole('owner', { apiKey: 'webhooks:write' })
  @ApiOperation({
    summary: 'Add a webhook endpoint',
    description: `Events: ${WEBHOOK_EVENT_TYPES.map((t) => '`' + t + '`').join(', ')}; \`data\` is the changed object as the API shows it. ${SIGNING} The response carries the \`secret\`, shown only this once. Delivery is at least once, one request at a time per endpoint, in the order the events fell due; a non-2xx answer, a timeout (10 s) or a connection error is retried with growing delays for about a day (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h by default), then the delivery is \`failed\`. An endpoint that keeps failing is paused for the same growing delays (its other deliveries wait; a success ends the pause). A URL whose host resolves to a loopback, private or link-local address at delivery time fails the delivery at once. Redirects are not followed. A team's changes produce at most WEBHOOKS_EVENT_RATE_LIMIT events a minute (60 by default): a change past it answers 429 with \`Retry-After\` and is not made. Logs CREATE_WEBHOOK.`,
  })
  @ApiCreatedResponse({ type: CreatedWebhookDto })
  @ApiVerifiedEmailRequired()
  // Endpoints plus this one within the plan's max_webhooks.
  @ApiErrors(...URL_ERRORS, PlanErrors.limitReached)
  create(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @Body() dto: CreateWebhookDto,
  ): Promise<CreatedWebhookDto> {
    return this.webhooks.create(actor, teamId, dto);
  }

  @Patch(':webhookId')
  @TeamRole('owner', { apiKey: 'webhooks:write' })
  @ApiOperation({
    summary: 'Change a webhook endpoint',
    description:
      'Any of `url`, `events`, `enabled`, `description`. A disabled endpoint gets no new events and its pending retries end as `failed`. Logs UPDATE_WEBHOOK when something changed.',
  })
  @WEBHOOK_PARAM
  @ApiOkResponse({ type: WebhookDto })
  @ApiErrors(WebhookErrors.notFound, ...URL_ERRORS)
  update(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @IdParam('webhookId') webhookId: number,
    @Body() dto: UpdateWebhookDto,
  ): Promise<WebhookDto> {
    return this.webhooks.update(actor, teamId, webhookId, dto);
  }

  @DeleteNoContent(':webhookId', 'Deleted')
  @TeamRole('owner', { apiKey: 'webhooks:write' })
  @ApiOperation({
    summary: 'Delete a webhook endpoint',
    description: 'Also deletes its delivery log; pending retries are dropped. Logs DELETE_WEBHOOK.',
  })
  @WEBHOOK_PARAM
  @ApiErrors(WebhookErrors.notFound)
  remove(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @IdParam('webhookId') webhookId: number,
  ): Promise<void> {
    return this.webhooks.remove(actor, teamId, webhookId);
  }

  @Post(':webhookId/rotate-secret')
  @HttpCode(HttpStatus.OK)
  @TeamRole('owner', { apiKey: 'webhooks:write' })
  @ApiOperation({
    summary: 'Replace the signing secret',
    description:
      'Returns the new secret, shown only this once. For 24 hours the previous secret keeps signing too: `webhook-signature` then carries two space-separated signatures, one per secret, and a receiver holding either secret verifies the message. Logs UPDATE_WEBHOOK.',
  })
  @WEBHOOK_PARAM
  @ApiOkResponse({ type: WebhookSecretDto })
  @ApiErrors(WebhookErrors.notFound)
  rotateSecret(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @IdParam('webhookId') webhookId: number,
  ): Promise<WebhookSecretDto> {
    return this.webhooks.rotateSecret(actor, teamId, webhookId);
  }

  @Get(':webhookId/deliveries')
  @TeamRole('owner', { apiKey: 'webhooks:write' })
  @ApiOperation({
    summary: "The endpoint's delivery log",
    description:
      "One delivery per event sent to this endpoint, newest first, paginated: its status, attempts so far, the last attempt's HTTP status and error, and when the next attempt is due. Response bodies are not exposed (only a 1 KB excerpt of the last one is kept, for support).",
  })
  @WEBHOOK_PARAM
  @ApiOkResponse({ type: WebhookDeliveryPageDto })
  @ApiErrors(WebhookErrors.notFound)
  listDeliveries(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @IdParam('webhookId') webhookId: number,
    @Query() query: PageQueryDto,
  ): Promise<WebhookDeliveryPageDto> {
    return this.webhooks.listDeliveries(actor, teamId, webhookId, query);
  }

  @Post(':webhookId/deliveries/:deliveryId/redeliver')
  @HttpCode(HttpStatus.ACCEPTED)
  @TeamRole('owner', { apiKey: 'webhooks:write' })
  @ApiOperation({
    summary: 'Send a delivery again',
    description:
      'Queues a new attempt now, whatever the status (also `succeeded` or `failed`), with the same event id and body (a fresh timestamp and signature). The delivery is `pending` until it is answered; a failed redelivery of a delivery whose retries are used up ends `failed` again.',
  })
  @WEBHOOK_PARAM
  @ApiIdParam('deliveryId', 'Delivery id')
  @ApiAcceptedResponse({ type: RedeliveryDto })
  @ApiErrors(WebhookErrors.notFound, WebhookErrors.deliveryNotFound, WebhookErrors.disabled)
  redeliver(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @IdParam('webhookId') webhookId: number,
    @IdParam('deliveryId') deliveryId: number,
  ): Promise<RedeliveryDto> {
    return this.webhooks.redeliver(actor, teamId, webhookId, deliveryId);
  }
}
