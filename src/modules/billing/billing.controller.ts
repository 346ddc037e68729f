import {
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Post,
  Query,
  Redirect,
  Req,
  type RawBodyRequest,
} from '@nestjs/common';
import {
  ApiBody,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { HttpRequest } from '../../common/http/http-request.js';
import { clientIp } from '../../common/http/client-ip.js';
import { ClientIp } from '../../common/decorators/client-ip.decorator.js';
import { Public } from '../../common/decorators/public.decorator.js';
import { RateLimit } from '../../common/rate-limit/rate-limit.guard.js';
import { CommonErrors } from '../../common/errors/common.errors.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { BillingErrors } from './billing.errors.js';
import { BillingWebhookService } from './billing-webhook.service.js';
import { CheckoutSuccessQueryDto, PlanDto, WebhookAckDto } from './billing.dto.js';
import { BillingService } from './billing.service.js';
import { StripeSignature } from './stripe-signature.decorator.js';

@ApiTags('billing')
@Public()
@Controller('billing')
export class BillingController {
  constructor(
    private readonly billing: BillingService,
    private readonly webhooks: BillingWebhookService,
  ) {}

  @Get('plans')
  @ApiOperation({
    summary: 'Plans on offer (public)',
    description:
      'Active Stripe products, each with its default active recurring price (else its newest one), cheapest first. Served from an in-process cache for 60 s.',
  })
  @ApiOkResponse({ type: [PlanDto] })
  @ApiErrors(BillingErrors.notConfigured, BillingErrors.stripeUnavailable)
  plans(): Promise<PlanDto[]> {
    return this.billing.listPlans();
  }

  @Get('checkout/success')
  @Redirect()
  @RateLimit('checkout-success')
  @ApiOperation({
    summary: "Stripe Checkout's success redirect (public)",
    description: [
      'Stripe sends the browser here (`success_url` = `APP_URL/api/v1/billing/checkout/success?session_id={CHECKOUT_SESSION_ID}`;',
      'the deployment serves /api/v1 on the frontend origin). Re-reads the session and its subscription from Stripe,',
      'writes them onto the team (unless a newer webhook already did) and answers 303 to `APP_URL/teams/{teamId}/billing?checkout=success`.',
      "When that changes the team, UPDATE_SUBSCRIPTION is logged against the team in the same transaction (userId null, the browser's IP).",
      'Cancel sends the browser to `APP_URL/teams/{teamId}/billing?checkout=canceled`. The webhook stays the source of truth.',
      'Throttled per client IP (RATE_LIMIT_PER_IP per RATE_LIMIT_WINDOW seconds): every hit calls Stripe.',
    ].join(' '),
  })
  @ApiResponse({
    status: HttpStatus.SEE_OTHER,
    description: 'Redirect to `APP_URL/teams/{teamId}/billing?checkout=success`',
    headers: {
      Location: {
        description: 'The frontend billing page',
        required: true,
        schema: { type: 'string', format: 'uri' },
      },
    },
  })
  @ApiErrors(
    BillingErrors.checkoutSessionNotFound,
    BillingErrors.checkoutIncomplete,
    BillingErrors.notConfigured,
    BillingErrors.stripeUnavailable,
  )
  checkoutSuccess(
    @Query() query: CheckoutSuccessQueryDto,
    @ClientIp() ip: string | null,
  ): Promise<{ url: string; statusCode: number }> {
    return this.billing.completeCheckout(query.session_id, ip);
  }

  @Post('webhook')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Stripe webhook endpoint (public, signed)',
    description: [
      'Verified with STRIPE_WEBHOOK_SECRET on the raw request bytes (`Stripe-Signature`, 300 s tolerance); a missing, wrong or stale',
      'signature → 400 and nothing is written. Handles `checkout.session.completed` and `customer.subscription.created/updated/deleted`:',
      "the team is found by Stripe customer id and gets stripeSubscriptionId, stripeProductId, planName (the product's name) and",
      'subscriptionStatus (every Stripe status, stored as Stripe names it; canceled / incomplete_expired clear product and planName).',
      'Each event id is applied once: it is recorded in stripe_events in the same transaction as the team update, under a lock on the',
      'team row, so redeliveries (also concurrent) answer 200 `duplicate`. Ordering: an event older (by `created`) than the newest event',
      'applied to the team is skipped (`stale`); same-second ties are applied, except that an ended subscription is never revived and',
      'never replaces another live one. An applied event that changes the team logs UPDATE_SUBSCRIPTION against it in the same transaction',
      '(userId null: Stripe acted); duplicates, stale events and events repeating the current state log nothing.',
      'Also handled, each once per event id (recorded in the same transaction): `entitlements.active_entitlement_summary.updated` stores',
      "the lookup keys of the customer's active entitlements as the team's features (ordered by the event's `created`: an older summary",
      "answers `stale`); `invoice.payment_failed` mails the team's owners once per invoice (a later event for the same invoice answers",
      '`already_notified`); `customer.subscription.trial_will_end` mails them a notice once per trial end. Mails go through the job queue,',
      "each in its recipient's language. A completed checkout also reads the customer's active entitlements once.",
      'Unknown customers and other event types → 200 with nothing changed. Any other failure',
      '(database, Stripe) → 5xx so Stripe retries: a 2xx always means committed or deliberately skipped.',
    ].join(' '),
  })
  @ApiHeader({
    name: 'Stripe-Signature',
    required: true,
    description: '`t=…,v1=…` as Stripe sends it',
  })
  @ApiBody({
    description:
      'A Stripe Event, exactly as Stripe sent it (the signature covers these bytes; do not re-serialize)',
    schema: {
      type: 'object',
      additionalProperties: true,
      example: {
        id: 'evt_1',
        object: 'event',
        type: 'customer.subscription.updated',
        created: 1767225600,
        data: { object: {} },
      },
    },
  })
  @ApiOkResponse({ type: WebhookAckDto })
  @ApiErrors(
    BillingErrors.invalidSignature,
    BillingErrors.notConfigured,
    BillingErrors.stripeUnavailable,
    // Not committed (e.g. the database failed): Stripe retries.
    CommonErrors.internal,
  )
  webhook(
    @Req() req: RawBodyRequest<HttpRequest>,
    @StripeSignature() signature?: string,
  ): Promise<WebhookAckDto> {
    return this.webhooks.handle(req.rawBody, signature, clientIp(req));
  }
}
