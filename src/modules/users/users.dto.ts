import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { SYSTEM_ROLES, TEAM_ROLES, type SystemRole, type User } from '../../database/schema.js';
import { EmailAddress } from '../../common/email.js';
import { DEFAULT_LOCALE, isLocale, SUPPORTED_LOCALES } from '../../common/i18n/locales.js';
import { ApiObjectRules } from '../../common/openapi/api-object-rules.decorator.js';
import { EMAIL_PROPERTY, trimmedText } from '../../common/openapi/schema-rules.js';
import type { MembershipRow } from './users.repository.js';

/** A user as the API shows it: never the password hash. */
export class UserDto {
  @ApiProperty({ type: 'integer', example: 12 })
  id!: number;

  @ApiProperty({ type: String, nullable: true, example: 'Ada Lovelace' })
  name!: string | null;

  @ApiProperty({ example: 'ada@example.com' })
  email!: string;

  @ApiProperty({ enum: SYSTEM_ROLES, example: 'member' })
  role!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt!: string;

  @ApiProperty({
    example: false,
    description:
      '`email` has been proven mine (a verification link, or an invitation link to it). Until then invitations to it are not shown or answerable, and with EMAIL_VERIFICATION=required most routes answer 403 `email.unverified`.',
  })
  emailVerified!: boolean;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description:
      'An address I asked to change to (PATCH /users/me) whose link has not been used yet; `email` stays in use until then',
  })
  pendingEmail!: string | null;

  @ApiProperty({
    example: false,
    description:
      'Two-factor sign-in (TOTP) is on: signing in asks for a code after the password (POST /auth/sign-in/mfa)',
  })
  mfaEnabled!: boolean;

  @ApiProperty({
    enum: SUPPORTED_LOCALES,
    example: 'en',
    description:
      'The language (BCP 47) of my mails, and of error messages when a request sends no Accept-Language the API supports. Set at sign-up (`locale`, else Accept-Language, else `en`); PATCH /users/me changes it.',
  })
  locale!: string;

  static from(user: User): UserDto {
    return {
      id: user.id,
      name: user.name,
      email: user.email,
      role: user.role,
      createdAt: user.createdAt.toISOString(),
      updatedAt: user.updatedAt.toISOString(),
      emailVerified: user.emailVerifiedAt !== null,
      pendingEmail: user.pendingEmail,
      mfaEnabled: user.mfaEnabledAt !== null,
      // A language since retired reads as the default (its mails are written in it too).
      locale: isLocale(user.locale) ? user.locale : DEFAULT_LOCALE,
    };
  }
}

export class MembershipDto {
  @ApiProperty({ type: 'integer', example: 7 })
  teamId!: number;

  @ApiProperty({ example: "ada@example.com's Team" })
  teamName!: string;

  @ApiProperty({ enum: TEAM_ROLES, example: 'owner' })
  role!: string;

  static from(row: MembershipRow): MembershipDto {
    return { teamId: row.teamId, teamName: row.teamName, role: row.role };
  }
}

export class MeDto extends UserDto {
  @ApiProperty({ type: [MembershipDto], description: 'My teams, the first joined first' })
  memberships!: MembershipDto[];
}

/** `locale` as requests send it: one of the supported languages, else 400 `request.invalid`. */
export const LOCALE_PROPERTY = {
  enum: SUPPORTED_LOCALES,
  example: 'de',
  description:
    'Language (BCP 47) of my mails and error messages; one of the supported ones, else 400 `request.invalid`.',
} as const;

const trimmed = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.trim() : value;

@ApiObjectRules({ minProperties: 1 })
export class UpdateMeDto {
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    minLength: 1,
    pattern: trimmedText(100).pattern,
    description: `Display name; null clears it. ${trimmedText(100).description}`,
  })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name?: string | null;

  @ApiPropertyOptional({
    ...EMAIL_PROPERTY,
    description: `New sign-in email. ${EMAIL_PROPERTY.description} Not applied at once: it becomes \`pendingEmail\` and a verification link goes to it (a notice to the current address); \`email\` changes when that link is used (POST /auth/verify-email). My current address cancels a pending change.`,
  })
  @ValidateIf((_o: unknown, value: unknown) => value !== undefined)
  @EmailAddress()
  email?: string;

  @ApiPropertyOptional(LOCALE_PROPERTY)
  @ValidateIf((_o: unknown, value: unknown) => value !== undefined)
  @IsIn(SUPPORTED_LOCALES)
  locale?: string;
}

/**
 * The back office's edit of an account (no API route): the API's rules for name and email
 * (UpdateMeDto, validated the same way) plus the system role.
 */
export class AdminUpdateUserDto extends UpdateMeDto {
  @IsOptional()
  @IsIn(SYSTEM_ROLES)
  role?: SystemRole;
}
