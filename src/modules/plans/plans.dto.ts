import { ApiProperty, ApiSchema } from '@nestjs/swagger';

export class PlanProductDto {
  @ApiProperty({ example: 'prod_123', description: 'The Stripe product of the live subscription' })
  productId!: string;

  @ApiProperty({ example: 'Pro', description: "The product's name (its id when unknown)" })
  name!: string;
}

export class PlanSeatsDto {
  @ApiProperty({ type: 'integer', example: 3, description: 'Members of the team now' })
  used!: number;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 3,
    description:
      "The subscription item's quantity Stripe last confirmed (per-seat prices); null when none was confirmed yet",
  })
  billed!: number | null;
}

const limitProperty = (key: string) =>
  ApiProperty({
    type: 'integer',
    nullable: true,
    minimum: 0,
    example: 5,
    description: `\`${key}\`; null: unlimited`,
  });

// A nested DTO's description sits on its schema: a property with its own description becomes
// `allOf: [$ref]`, which the response serializer check (openapi-contract) does not follow.
@ApiSchema({
  description:
    "The limits in force: a back-office override, else the live subscription's product metadata (`max_members`, `max_api_keys`, `max_webhooks`), else the free plan (`FREE_PLAN_LIMITS`); null: unlimited",
})
export class PlanLimitsDto {
  @limitProperty('max_members') maxMembers!: number | null;
  @limitProperty('max_api_keys') maxApiKeys!: number | null;
  @limitProperty('max_webhooks') maxWebhooks!: number | null;
}

export class PlanUsageDto {
  @ApiProperty({ type: 'integer', example: 3 }) members!: number;

  @ApiProperty({
    type: 'integer',
    example: 1,
    description:
      'Pending invitations not yet expired (they count against max_members when inviting)',
  })
  pendingInvitations!: number;

  @ApiProperty({ type: 'integer', example: 2, description: 'API keys not revoked nor expired' })
  apiKeys!: number;

  @ApiProperty({ type: 'integer', example: 1, description: 'Webhook endpoints, disabled ones too' })
  webhooks!: number;
}

/** The plan as `GET /teams/:teamId` shows it (`plan`): the view without `usage`. */
@ApiSchema({
  description:
    'The plan, its seats, limits and features: `plan` on `GET /teams/{teamId}`, and `GET /teams/{teamId}/plan` with `usage`',
})
export class TeamPlanDto {
  @ApiProperty({
    type: PlanProductDto,
    nullable: true,
    description: "The live subscription's product; null: the free plan",
  })
  plan!: PlanProductDto | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'active',
    description:
      "The subscription's status as Stripe names it (also after it ended: `canceled`); null: the team never subscribed",
  })
  status!: string | null;

  @ApiProperty({ description: 'The subscription ends at the end of the current period' })
  cancelAtPeriodEnd!: boolean;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: "End of the live subscription's current period",
  })
  currentPeriodEnd!: Date | null;

  @ApiProperty({ description: "The subscription's price bills per member" })
  perSeat!: boolean;

  @ApiProperty({ type: PlanSeatsDto }) seats!: PlanSeatsDto;

  @ApiProperty({ type: PlanLimitsDto }) limits!: PlanLimitsDto;

  @ApiProperty({
    type: [String],
    example: ['sso'],
    description: "Lookup keys of the team's active Stripe entitlements",
  })
  features!: string[];
}

/** GET /teams/:teamId/plan. */
export class PlanViewDto extends TeamPlanDto {
  @ApiProperty({ type: PlanUsageDto }) usage!: PlanUsageDto;
}
