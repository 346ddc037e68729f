import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { ApiObjectRules } from '../../common/openapi/api-object-rules.decorator.js';
import { WEBHOOK_DELIVERY_STATUSES } from '../../database/schema.js';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './webhooks.types.js';

const URL_DESCRIPTION =
  'Where events are POSTed. Must be `https://` and must not resolve to a loopback, private, link-local or otherwise reserved address (unless the server runs with WEBHOOKS_ALLOW_PRIVATE=true, which also allows `http://`).';
const EVENTS_DESCRIPTION = 'The event types sent to this endpoint (at least one, no duplicates)';

export class CreateWebhookDto {
  @ApiProperty({
    maxLength: 2048,
    example: 'https://example.com/hooks/nest-saas',
    description: URL_DESCRIPTION,
  })
  @IsString()
  @MinLength(1)
  @MaxLength(2048)
  url!: string;

  @ApiProperty({
    type: 'array',
    items: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] },
    minItems: 1,
    maxItems: WEBHOOK_EVENT_TYPES.length,
    uniqueItems: true,
    example: ['member.added', 'team.updated'],
    description: EVENTS_DESCRIPTION,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true })
  events!: WebhookEventType[];

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 500, example: 'CRM sync' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string | null;
}

@ApiObjectRules({ minProperties: 1 })
export class UpdateWebhookDto {
  @ApiPropertyOptional({ maxLength: 2048, minLength: 1, description: URL_DESCRIPTION })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] },
    minItems: 1,
    maxItems: WEBHOOK_EVENT_TYPES.length,
    uniqueItems: true,
    description: EVENTS_DESCRIPTION,
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true })
  events?: WebhookEventType[];

  @ApiPropertyOptional({
    description: 'false: no new events are sent to it (pending retries fail)',
  })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: 500,
    description: 'null clears it',
  })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @MaxLength(500)
  description?: string | null;
}

export class WebhookDto {
  @ApiProperty({ type: 'integer', example: 3 }) id!: number;
  @ApiProperty({ example: 'https://example.com/hooks/nest-saas' }) url!: string;
  @ApiProperty({ type: String, nullable: true, example: 'CRM sync' }) description!: string | null;
  @ApiProperty({
    type: 'array',
    items: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] },
    example: ['member.added', 'team.updated'],
  })
  events!: string[];
  @ApiProperty({ example: true }) enabled!: boolean;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt!: Date;
}

export class WebhookSecretDto {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw2pe0Z3nFQ+8=',
    description:
      'The signing secret (Standard Webhooks: `whsec_` + base64 key). Shown only in this response; store it now.',
  })
  secret!: string;
}

export class CreatedWebhookDto extends WebhookDto {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw2pe0Z3nFQ+8=',
    description:
      'The signing secret (Standard Webhooks: `whsec_` + base64 key). Shown only in this response; store it now.',
  })
  secret!: string;
}

export class WebhookPageDto {
  @ApiProperty({ type: [WebhookDto] }) items!: WebhookDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

export class WebhookDeliveryDto {
  @ApiProperty({ type: 'integer', example: 41 }) id!: number;
  @ApiProperty({
    example: 'evt_2bq8Xo0vYk3xQ9fJmCz1Lw',
    description: 'Also the `webhook-id` header of every attempt',
  })
  eventId!: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, example: 'member.added' }) eventType!: string;
  @ApiProperty({
    enum: WEBHOOK_DELIVERY_STATUSES,
    description:
      '`pending`: not yet answered with a 2xx, another attempt is due at `nextAttemptAt`; `succeeded`: a 2xx came; `failed`: every attempt failed (or the endpoint was disabled)',
  })
  status!: string;
  @ApiProperty({ type: 'integer', example: 2, description: 'Attempts made so far' })
  attempts!: number;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 500,
    description: 'HTTP status of the last attempt (null: no answer)',
  })
  lastStatusCode!: number | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'HTTP 500',
    description: 'Why the last attempt failed',
  })
  lastError!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  nextAttemptAt!: Date | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
}

export class WebhookDeliveryPageDto {
  @ApiProperty({ type: [WebhookDeliveryDto] }) items!: WebhookDeliveryDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

export class RedeliveryDto {
  @ApiProperty({ type: 'integer', example: 41 }) deliveryId!: number;
  @ApiProperty({ enum: ['pending'], example: 'pending' }) status!: 'pending';
}
