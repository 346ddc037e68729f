import { Body, Controller, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { UserActor } from '../../common/auth/actor.js';
import { CurrentUserActor } from '../../common/decorators/current-actor.decorator.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { ParseIdPipe } from '../../common/http/parse-id.pipe.js';
import { TeamRole } from '../access/team-role.decorator.js';
import { BillingUrlDto, CreateCheckoutDto } from './billing.dto.js';
import { BillingErrors } from './billing.errors.js';
import { BillingService } from './billing.service.js';

@ApiTags('billing')
@Controller('teams/:teamId/billing')
export class TeamBillingController {
  constructor(private readonly billing: BillingService) {}

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
    @Param('teamId', ParseIdPipe) teamId: number,
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
    @Param('teamId', ParseIdPipe) teamId: number,
  ): Promise<BillingUrlDto> {
    return this.billing.createPortal(actor, teamId);
  }
}
