import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsEnum,
  IsIn,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { MAX_ID } from '../../common/ids.js';
import { PageQueryDto } from '../../common/http/pagination.js';
import { trimmedText } from '../../common/openapi/schema-rules.js';
import { ActivityType, TEAM_ROLES, type TeamRole } from '../../database/schema.js';

import { CALENDAR_DATE_TIME } from '../audit/audit.dto.js';
import { TeamPlanDto } from '../plans/plans.dto.js';

const trim = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.trim() : value;

export class CreateTeamDto {
  @ApiProperty({ example: 'Acme', ...trimmedText(100) })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;
}

/**
 * Only the name is writable. Billing and Stripe fields are set by the billing module from
 * Stripe itself; sending them here is a 400 (unknown fields are rejected).
 */
export class UpdateTeamDto {
  @ApiProperty({ example: 'Acme Inc.', ...trimmedText(100) })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;
}

export class UpdateMemberRoleDto {
  @ApiProperty({ enum: TEAM_ROLES, example: 'owner' })
  @IsIn(TEAM_ROLES)
  role!: TeamRole;
}

export class TeamDto {
  @ApiProperty({ type: 'integer', example: 1 }) id!: number;
  @ApiProperty({ example: 'Acme' }) name!: string;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt!: Date;

  // Stripe object ids are identifiers, not credentials (useless without the secret key),
  // and the contract includes the team's subscription fields; they are read-only here.
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'cus_123',
    description: 'Stripe customer id (an identifier, not a secret). Read-only.',
  })
  stripeCustomerId!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'sub_123',
    description: 'Stripe subscription id (an identifier, not a secret). Read-only.',
  })
  stripeSubscriptionId!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'prod_123', description: 'Read-only.' })
  stripeProductId!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'Base', description: 'Read-only.' })
  planName!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'active',
    description: "Stripe subscription status ('active', 'trialing', 'canceled', ...). Read-only.",
  })
  subscriptionStatus!: string | null;
}

export class TeamMemberUserDto {
  @ApiProperty({ type: 'integer', example: 7 }) id!: number;
  @ApiProperty({ type: String, nullable: true, example: 'Ada' }) name!: string | null;
  @ApiProperty({ example: 'ada@example.com' }) email!: string;
}

export class TeamMemberDto {
  @ApiProperty({ type: 'integer', example: 3, description: 'Membership id, used as `:memberId`' })
  id!: number;
  @ApiProperty({ type: 'integer', example: 1 }) teamId!: number;
  @ApiProperty({ type: 'integer', example: 7 }) userId!: number;
  @ApiProperty({ enum: TEAM_ROLES, example: 'member' }) role!: TeamRole;
  @ApiProperty({ type: String, format: 'date-time' }) joinedAt!: Date;
  @ApiProperty({ type: TeamMemberUserDto }) user!: TeamMemberUserDto;
}

/** `TeamDataWithMembers`: the team's fields plus its members with their public user fields. */
export class TeamDetailDto extends TeamDto {
  @ApiProperty({ type: [TeamMemberDto] }) teamMembers!: TeamMemberDto[];

  // Described on its schema (a property description would wrap the $ref in allOf).
  @ApiProperty({ type: TeamPlanDto }) plan!: TeamPlanDto;
}

export class MyTeamDto extends TeamDto {
  @ApiProperty({ enum: TEAM_ROLES, example: 'owner', description: 'My role in this team' })
  role!: TeamRole;

  @ApiProperty({
    type: 'integer',
    example: 3,
    description: 'My membership id (`:memberId`, e.g. to leave)',
  })
  memberId!: number;

  @ApiProperty({ type: String, format: 'date-time' }) joinedAt!: Date;
}

export class MyTeamsPageDto {
  @ApiProperty({ type: [MyTeamDto] }) items!: MyTeamDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

export class TeamActivityQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ActivityType, enumName: 'ActivityType' })
  @IsOptional()
  @IsEnum(ActivityType)
  action?: ActivityType;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_ID,
    description: 'Only entries by this user',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_ID)
  userId?: number;

  @ApiPropertyOptional({
    type: String,
    pattern: CALENDAR_DATE_TIME.source,
    example: '2030-01-31T12:00:00Z',
    description:
      'Entries at or after this instant: an ISO-8601 calendar date or date-time (UTC unless an offset is given)',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({
    type: String,
    pattern: CALENDAR_DATE_TIME.source,
    example: '2030-02-01',
    description:
      'Entries strictly before this instant, later than `from`: an ISO-8601 calendar date or date-time',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}

export class TeamActivityDto {
  @ApiProperty({ type: 'integer', example: 42 }) id!: number;
  @ApiProperty({ enum: ActivityType, enumName: 'ActivityType' }) action!: ActivityType;
  @ApiProperty({ type: String, format: 'date-time' }) timestamp!: Date;
  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' }) ipAddress!: string | null;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 7,
    description:
      'Who acted; null when no user did (UPDATE_SUBSCRIPTION: Stripe changed the subscription)',
  })
  userId!: number | null;
  @ApiProperty({ type: TeamMemberUserDto, nullable: true }) user!: TeamMemberUserDto | null;
}

export class TeamActivityPageDto {
  @ApiProperty({ type: [TeamActivityDto] }) items!: TeamActivityDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}
