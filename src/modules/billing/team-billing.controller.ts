import { Body, Get, HttpCode, HttpStatus, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { UserActor } from '../../common/auth/actor.js';
import { CurrentUserActor } from '../../common/decorators/current-actor.decorator.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { TeamRole } from '../access/team-role.decorator.js';
import { PageQueryDto } from '../../common/http/pagination.js';
import { CommonErrors } from '../../common/errors/common.errors.js';
import { BillingUrlDto, CreateCheckoutDto, InvoicePageDto } from './billing.dto.js';
import { PlanViewDto } from '../plans/plans.dto.js';
import { BillingErrors } from './billing.errors.js';
import { BillingService } from './billing.service.js';
import { TeamBillingService } from './team-billing.service.js';
import { IdParam } from '../../common/http/parse-id.pipe.js';
import { TeamController } from '../access/team-controller.decorator.js';

@TeamController('billing', 'billing')
export class TeamBillingController {
  constructor(
    private readonly billing: BillingService,
    private readonly teamBilling: TeamBillingService,
  ) {}

  @Post('checkout')
  @HttpCode(HttpStatus.OK)
  @TeamRole('owner')
  @ApiOperation({
    summary: 'Start a subscription checkout for the team (owner)',
    description: [
      '`priceId` must be one of GET /billing/plans (else 400 `billing.unknown_price`). The team gets one Stripe customer,',
      'created on its first checkout (under a lock on the team row, with an idempotency key) and reused afterwards.',
      "The session is in subscription mode with `client_reference_id` and `metadata.teamId` = the team id and the plan's",
      "trial days; success → GET /billing/checkout/success (on APP_URL's origin), cancel → `APP_URL/teams/{teamId}/billing?checkout=canceled`.",
      'A team whose subscription is trialing, active, past_due, unpaid or paused gets 409 `billing.already_subscribed` (use the portal).',
      "A per-seat price (its `metadata.per_seat` is `true`) is bought with the team's member count as the line item's `quantity`; any other with 1.",
    ].join(' '),
  })
  @ApiOkResponse({
    type: BillingUrlDto,
    description: 'The Stripe Checkout URL to send the browser to',
  })
  @ApiErrors(
    BillingErrors.unknownPrice,
    BillingErrors.alreadySubscribed,
    BillingErrors.notConfigured,
    BillingErrors.stripeUnavailable,
  )
  checkout(
    @CurrentUserActor() actor: UserActor,
    @IdParam('teamId') teamId: number,
    @Body() body: CreateCheckoutDto,
  ): Promise<BillingUrlDto> {
    return this.billing.createCheckout(actor, teamId, body.priceId);
  }

  @Post('portal')
  @HttpCode(HttpStatus.OK)
  @TeamRole('owner')
  @ApiOperation({
    summary: "Open Stripe's customer portal for the team (owner)",
    description:
      'Change plan, payment method, invoices, cancel. Returns to `APP_URL/teams/{teamId}/billing`. 409 `billing.no_customer` before the first checkout.',
  })
  @ApiOkResponse({ type: BillingUrlDto, description: 'The portal URL to send the browser to' })
  @ApiErrors(BillingErrors.noCustomer, BillingErrors.notConfigured, BillingErrors.stripeUnavailable)
  portal(
    @CurrentUserActor() actor: UserActor,
    @IdParam('teamId') teamId: number,
  ): Promise<BillingUrlDto> {
    return this.billing.createPortal(actor, teamId);
  }

  @Get('invoices')
  @TeamRole('owner')
  @ApiOperation({
    summary: "The team's invoices (owner)",
    description: [
      "Read from Stripe for the team's customer, newest first, paginated like the other lists: `limit` (1-100, default 20) and",
      "the previous page's `nextCursor` as `cursor` (Stripe's own cursor: the last invoice of the page, passed on as `starting_after`;",
      "null on the last page). Amounts are in the currency's minor unit as Stripe gives them; `status` is Stripe's (draft, open, paid,",
      'uncollectible, void). A team that never started a checkout has no Stripe customer: an empty list. Stripe failing or slow',
      '(8 s, one retry) → 502 `billing.stripe_unavailable`; no billing configured → 503 `billing.not_configured`.',
      'A cursor that is not one of ours → 400 `request.invalid_cursor`.',
    ].join(' '),
  })
  @ApiOkResponse({ type: InvoicePageDto })
  @ApiErrors(
    CommonErrors.invalidCursor,
    BillingErrors.notConfigured,
    BillingErrors.stripeUnavailable,
  )
  invoices(
    @CurrentUserActor() actor: UserActor,
    @IdParam('teamId') teamId: number,
    @Query() query: PageQueryDto,
  ): Promise<InvoicePageDto> {
    return this.teamBilling.listInvoices(actor, teamId, query);
  }

  @Post('cancel')
  @HttpCode(HttpStatus.OK)
  @TeamRole('owner')
  @ApiOperation({
    summary: 'Cancel the subscription at the end of its period (owner)',
    description: [
      "Sets Stripe's `cancel_at_period_end`: the team keeps its plan until `currentPeriodEnd`, then Stripe ends the subscription",
      '(its `customer.subscription.deleted` event moves the team to the free plan). 409 `billing.no_live_subscription` when the team',
      'has no trialing, active, past_due, unpaid or paused subscription. Logs CANCEL_SUBSCRIPTION in the transaction that stores',
      '`cancelAtPeriodEnd`; asking again while a cancel is pending answers 200 and logs nothing. Answers the plan view',
      '(as GET /teams/{teamId}/plan).',
    ].join(' '),
  })
  @ApiOkResponse({ type: PlanViewDto })
  @ApiErrors(
    BillingErrors.noLiveSubscription,
    BillingErrors.notConfigured,
    BillingErrors.stripeUnavailable,
  )
  cancel(
    @CurrentUserActor() actor: UserActor,
    @IdParam('teamId') teamId: number,
  ): Promise<PlanViewDto> {
    return this.teamBilling.cancel(actor, teamId);
  }

  @Post('resume')
  @HttpCode(HttpStatus.OK)
  @TeamRole('owner')
  @ApiOperation({
    summary: 'Undo a pending cancel (owner)',
    description: [
      "Clears Stripe's `cancel_at_period_end`: the subscription renews as before. 409 `billing.no_pending_cancel` when no cancel is",
      'pending, 409 `billing.no_live_subscription` without a live subscription. Logs RESUME_SUBSCRIPTION in the transaction that',
      'stores `cancelAtPeriodEnd`. Answers the plan view (as GET /teams/{teamId}/plan).',
    ].join(' '),
  })
  @ApiOkResponse({ type: PlanViewDto })
  @ApiErrors(
    BillingErrors.noLiveSubscription,
    BillingErrors.noPendingCancel,
    BillingErrors.notConfigured,
    BillingErrors.stripeUnavailable,
  )
  resume(
    @CurrentUserActor() actor: UserActor,
    @IdParam('teamId') teamId: number,
  ): Promise<PlanViewDto> {
    return this.teamBilling.resume(actor, teamId);
  }
}
