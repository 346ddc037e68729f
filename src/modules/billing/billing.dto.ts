import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength } from 'class-validator';

const PRICE_ID = /^price_[A-Za-z0-9_]+$/;
const CHECKOUT_SESSION_ID = /^cs_[A-Za-z0-9_]+$/;

export class PlanDto {
  @ApiProperty({ example: 'prod_Q1w2e3r4t5y6u7' })
  productId!: string;

  @ApiProperty({
    example: 'Plus',
    description: "The product's name; stored as the team's planName",
  })
  name!: string;

  @ApiProperty({ example: 'price_1Q2w3e4r5t6y7u8i9o0p', description: 'Pass this to checkout' })
  priceId!: string;

  @ApiProperty({
    type: 'integer',
    // An amount from Stripe, whose bounds are Stripe's: int64, not the int32 of our ids.
    format: 'int64',
    example: 1200,
    description: "In the currency's minor unit, as Stripe gives it (1200 = $12.00)",
  })
  amount!: number;

  @ApiProperty({ example: 'usd', description: 'ISO 4217, lower case' })
  currency!: string;

  @ApiProperty({ example: 'month', enum: ['day', 'week', 'month', 'year'] })
  interval!: string;

  @ApiProperty({
    example: false,
    description:
      "Bills per member (the price's `metadata.per_seat` is `true`): checkout sends the member count as the quantity, and it follows the team's members",
  })
  perSeat!: boolean;

  @ApiProperty({
    type: 'integer',
    example: 7,
    description:
      "Free trial days a new subscription gets (0 = none): the price's `metadata.trial_days`, else its legacy `recurring.trial_period_days`, else the product's `metadata.trial_days`",
  })
  trialDays!: number;
}

export class CreateCheckoutDto {
  @ApiProperty({
    example: 'price_1Q2w3e4r5t6y7u8i9o0p',
    maxLength: 255,
    pattern: PRICE_ID.source,
    description:
      'One of the `priceId`s of GET /billing/plans; any other price → 400 billing.unknown_price',
  })
  @IsString()
  @MaxLength(255)
  @Matches(PRICE_ID, { message: 'priceId must be a Stripe price id (price_…)' })
  priceId!: string;
}

export class BillingUrlDto {
  @ApiProperty({
    example: 'https://checkout.stripe.com/c/pay/cs_test_a1b2c3',
    description: 'Send the browser here',
  })
  url!: string;
}

export class CheckoutSuccessQueryDto {
  @ApiProperty({
    name: 'session_id',
    maxLength: 255,
    pattern: CHECKOUT_SESSION_ID.source,
    example: 'cs_test_a1b2c3d4e5',
    description: 'Filled in by Stripe ({CHECKOUT_SESSION_ID})',
  })
  @IsString()
  @MaxLength(255)
  @Matches(CHECKOUT_SESSION_ID, { message: 'session_id must be a Checkout session id (cs_…)' })
  session_id!: string;
}

export class WebhookAckDto {
  @ApiProperty({ enum: [true], example: true })
  received!: true;

  @ApiProperty({
    example: 'applied',
    enum: [
      'applied',
      'duplicate',
      'stale',
      'subscription_ended',
      'other_subscription_ended',
      'unknown_customer',
      'already_notified',
      'ignored',
    ],
    description: [
      'What happened (for the Stripe Dashboard log). `applied`: the team was updated.',
      '`duplicate`: this event id was already processed, nothing changed.',
      '`stale`: older than the newest event applied to the team (ties are applied).',
      '`subscription_ended` / `other_subscription_ended`: would revive an ended subscription, or replace a live one with an ended one.',
      '`unknown_customer`: no team has this customer; nothing changed, acknowledged so Stripe stops retrying.',
      '`already_notified`: a new event about an invoice (or trial end) whose mail was already queued; recorded, no second mail.',
      '`ignored`: an event type this API does not handle (not recorded).',
    ].join(' '),
  })
  outcome!: string;
}

export class InvoiceDto {
  @ApiProperty({ example: 'in_1Q2w3e4r5t6y7u8i' })
  id!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'A1B2C3D4-0001',
    description: 'Null while the invoice is a draft',
  })
  number!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'paid',
    description: "Stripe's status: draft, open, paid, uncollectible or void",
  })
  status!: string | null;

  @ApiProperty({
    type: 'integer',
    format: 'int64',
    example: 1200,
    description: "In the currency's minor unit, as Stripe gives it",
  })
  amountDue!: number;

  @ApiProperty({ type: 'integer', format: 'int64', example: 1200 })
  amountPaid!: number;

  @ApiProperty({ example: 'usd', description: 'ISO 4217, lower case' })
  currency!: string;

  @ApiProperty({ type: String, format: 'date-time', description: "Stripe's `created`" })
  createdAt!: Date;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'https://invoice.stripe.com/i/acct_1/test_abc',
    description: "Stripe's hosted page to view and pay it (null for a draft)",
  })
  hostedInvoiceUrl!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'https://pay.stripe.com/invoice/acct_1/test_abc/pdf',
  })
  invoicePdf!: string | null;
}

export class InvoicePageDto {
  @ApiProperty({ type: [InvoiceDto], description: 'Newest first' })
  items!: InvoiceDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next (older) page; null on the last page',
  })
  nextCursor!: string | null;
}

