import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, Length } from 'class-validator';
import { INVITATION_STATUSES, TEAM_ROLES, type TeamRole } from '../../database/schema.js';
import { EmailAddress } from '../../common/email.js';
import { EMAIL_PROPERTY } from '../../common/openapi/schema-rules.js';

export class CreateInvitationDto {
  @ApiProperty({ ...EMAIL_PROPERTY, example: 'new.person@example.com' })
  @EmailAddress()
  email!: string;

  @ApiProperty({ enum: TEAM_ROLES, example: 'member', description: 'Role given on accept' })
  @IsIn(TEAM_ROLES)
  role!: TeamRole;
}

export class InvitationDto {
  @ApiProperty({ type: 'integer', example: 12 }) id!: number;
  @ApiProperty({ type: 'integer', example: 1 }) teamId!: number;
  @ApiProperty({ example: 'Acme' }) teamName!: string;
  @ApiProperty({ example: 'new.person@example.com' }) email!: string;
  @ApiProperty({ enum: TEAM_ROLES, example: 'member' }) role!: TeamRole;
  @ApiProperty({ type: 'integer', example: 7, description: 'User id of the owner who sent it' })
  invitedBy!: number;
  @ApiProperty({ type: String, nullable: true, example: 'Ada' }) invitedByName!: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) invitedAt!: Date;

  @ApiProperty({
    type: String,
    format: 'date-time',
    description: 'invitedAt + 7 days; after it the invitation can no longer be accepted',
  })
  expiresAt!: Date;

  @ApiProperty({
    enum: INVITATION_STATUSES,
    example: 'pending',
    description: '`expired`: was pending when its 7 days ran out (marked by housekeeping)',
  })
  status!: string;
}

export class InvitationPageDto {
  @ApiProperty({ type: [InvitationDto] }) items!: InvitationDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

export class AcceptedInvitationDto {
  @ApiProperty({ type: 'integer', example: 1 }) teamId!: number;
  @ApiProperty({ example: 'Acme' }) teamName!: string;
  @ApiProperty({ type: 'integer', example: 3, description: 'My membership id in the team' })
  memberId!: number;
  @ApiProperty({ enum: TEAM_ROLES, example: 'member', description: 'My role in the team' })
  role!: TeamRole;
  @ApiProperty({ type: String, format: 'date-time' }) joinedAt!: Date;
}

export class AcceptInvitationByTokenDto {
  @ApiProperty({
    description:
      'The `token` parameter of the invitation link (APP_URL/invitations/accept?token=…), e.g. `inv2.12.1767225600.<signature>`',
  })
  @IsString()
  @Length(1, 2048)
  token!: string;
}
