import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class ErrorDetailDto {
  @ApiPropertyOptional({
    example: 'email',
    description: 'Input field (dotted path) the detail is about',
  })
  field?: string;

  @ApiProperty({ example: 'email must be an email' })
  message!: string;

  @ApiPropertyOptional({
    enum: ['max_members', 'max_api_keys', 'max_webhooks'],
    description: '`plan.limit_reached`: the limit that was reached (a product-metadata key)',
  })
  limit?: string;

  @ApiPropertyOptional({ type: 'integer', description: '`plan.limit_reached`: the limit' })
  max?: number;

  @ApiPropertyOptional({
    type: 'integer',
    description:
      '`plan.limit_reached`: what counts against it now (for `max_members` on an invitation: members plus pending invitations)',
  })
  used?: number;

  @ApiPropertyOptional({
    example: 'sso',
    description: '`plan.feature_required`: the entitlement lookup key the route needs',
  })
  feature?: string;

  @ApiPropertyOptional({
    format: 'uri',
    example: 'https://api.example.com/api/v1/auth/sso?email=ada%40example.com',
    description:
      '`auth.sso_required` only: GET /auth/sso for this email, where the browser signs in',
  })
  ssoUrl?: string;
}

/** The one error shape of the API (see API.md → Conventions), plus a stable machine-readable `code`. */
export class ErrorResponseDto {
  @ApiProperty({ type: 'integer', example: 400 })
  statusCode!: number;

  @ApiProperty({ example: 'Bad Request', description: 'The HTTP reason phrase of statusCode' })
  error!: string;

  @ApiProperty({
    example: 'request.invalid',
    description: 'Stable dotted error code, e.g. `team.last_owner`, `billing.not_configured`',
  })
  code!: string;

  @ApiProperty({
    example: 'Invalid request',
    description:
      "For people, in the request's `Accept-Language` (`en`, `de`, `fr`), else the signed-in user's `locale`, else English; `code` is the same in every language",
  })
  message!: string;

  @ApiPropertyOptional({ type: [ErrorDetailDto], description: 'Field-level notes, in English' })
  details?: ErrorDetailDto[];
}
