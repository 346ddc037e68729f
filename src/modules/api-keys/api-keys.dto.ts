import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';
import { API_KEY_SCOPES, type ApiKeyScope } from '../../common/auth/actor.js';
import { trimmedText } from '../../common/openapi/schema-rules.js';

/** An ISO-8601 date-time with its offset (`Z` or `±hh:mm`): an instant, never a local time. */
export const EXPIRES_AT_PATTERN =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

const SCOPES_DESCRIPTION =
  '`team:read` (GET the team and its members), `members:write` (change roles, remove members), `invitations:write` (list, create and revoke invitations), `activity:read` (the team activity log), `webhooks:write` (the webhook routes)';

const trim = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.trim() : value;

export class CreateApiKeyDto {
  @ApiProperty({ example: 'CI deploy bot', ...trimmedText(100) })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;

  @ApiProperty({
    type: 'array',
    items: { type: 'string', enum: [...API_KEY_SCOPES] },
    minItems: 1,
    maxItems: API_KEY_SCOPES.length,
    uniqueItems: true,
    example: ['team:read', 'invitations:write'],
    description: `At least one, no duplicates. ${SCOPES_DESCRIPTION}.`,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(API_KEY_SCOPES.length)
  @ArrayUnique()
  @IsIn(API_KEY_SCOPES, { each: true })
  scopes!: ApiKeyScope[];

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    pattern: EXPIRES_AT_PATTERN.source,
    example: '2030-01-31T12:00:00Z',
    description:
      'When the key stops working: an ISO-8601 date-time with offset, in the future (else 400). Omitted: never expires (revoke it instead).',
  })
  @IsOptional()
  @IsString()
  @Matches(EXPIRES_AT_PATTERN, {
    message: 'expiresAt must be an ISO-8601 date-time with offset, e.g. 2030-01-31T12:00:00Z',
  })
  expiresAt?: string;
}

export class ApiKeyDto {
  @ApiProperty({ type: 'integer', example: 3 }) id!: number;
  @ApiProperty({ example: 'CI deploy bot' }) name!: string;
  @ApiProperty({
    example: 'nsk_3f9a1c0b7d2e',
    description: 'The public start of the key, to recognise it; not a secret',
  })
  prefix!: string;

  @ApiProperty({ type: 'array', items: { type: 'string', enum: [...API_KEY_SCOPES] } })
  scopes!: ApiKeyScope[];

  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) expiresAt!: Date | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description:
      'Last request made with the key; recorded at most once a minute, so it may lag up to a minute',
  })
  lastUsedAt!: Date | null;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 7,
    description:
      'User id of the owner who created it (activity written with the key names this user)',
  })
  createdBy!: number | null;
}

export class ApiKeyPageDto {
  @ApiProperty({ type: [ApiKeyDto] }) items!: ApiKeyDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

export class CreatedApiKeyDto {
  @ApiProperty({ type: 'integer', example: 3 }) id!: number;
  @ApiProperty({ example: 'CI deploy bot' }) name!: string;
  @ApiProperty({ example: 'nsk_3f9a1c0b7d2e' }) prefix!: string;
  @ApiProperty({ type: 'array', items: { type: 'string', enum: [...API_KEY_SCOPES] } })
  scopes!: ApiKeyScope[];

  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) expiresAt!: Date | null;

  @ApiProperty({
    example: 'nsk_3f9a1c0b7d2e_3q2-7wEjD6Xw0n1rNVt0mB8a5kQm9yW4zT1uLcR2pHs',
    description:
      'The key itself, shown this once: only its SHA-256 is stored, so it cannot be shown again. Send it as `Authorization: Bearer nsk_…`.',
  })
  key!: string;
}
