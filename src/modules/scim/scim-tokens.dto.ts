import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { trimmedText } from '../../common/openapi/schema-rules.js';

const trim = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.trim() : value;

export class CreateScimTokenDto {
  @ApiProperty({ example: 'Okta provisioning', ...trimmedText(100) })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;
}

export class ScimTokenDto {
  @ApiProperty({ type: 'integer', example: 2 }) id!: number;
  @ApiProperty({ example: 'Okta provisioning' }) name!: string;
  @ApiProperty({
    example: 'scim_5b0c1e9d2a7f',
    description: 'The public start of the token, to recognise it; not a secret',
  })
  prefix!: string;

  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Last SCIM request made with the token; recorded at most once a minute',
  })
  lastUsedAt!: Date | null;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 7,
    description: 'User id of the owner who created it (null once that account is deleted)',
  })
  createdBy!: number | null;
}

export class ScimTokenPageDto {
  @ApiProperty({ type: [ScimTokenDto] }) items!: ScimTokenDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

export class CreatedScimTokenDto {
  @ApiProperty({ type: 'integer', example: 2 }) id!: number;
  @ApiProperty({ example: 'Okta provisioning' }) name!: string;
  @ApiProperty({ example: 'scim_5b0c1e9d2a7f' }) prefix!: string;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;

  @ApiProperty({
    example: 'scim_5b0c1e9d2a7f_Vq2n8sQ4mZ0xk1rT7wYc3bH9dL5pF6gJ2eA8uN4oS1i',
    description:
      "The token itself, shown this once: only its SHA-256 is stored. Paste it into the identity provider's SCIM settings (Okta: API token under HTTP Header; Entra ID: Secret Token); it is sent as `Authorization: Bearer scim_…` to the SCIM service at `/scim/v2`.",
  })
  token!: string;
}

export class ScimSettingsDto {
  @ApiProperty({
    example: 'https://api.example.com/scim/v2',
    description:
      "The SCIM service's base URL for this deployment (Okta: SCIM connector base URL; Entra ID: Tenant URL). The token decides the team.",
  })
  baseUrl!: string;

  @ApiProperty({
    example: 'Owners',
    description:
      "The directory group (its `displayName`, compared ignoring case) whose members are the team's owners; members of the team removed from it become members again. Default `Owners`.",
  })
  ownerGroup!: string;
}

export class UpdateScimSettingsDto {
  @ApiProperty({ example: 'Owners', ...trimmedText(255) })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  ownerGroup!: string;
}
