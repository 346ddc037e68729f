import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, Length, MaxLength, MinLength } from 'class-validator';
import { SUPPORTED_LOCALES } from '../../common/i18n/locales.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../common/crypto/password-hasher.js';
import { TEAM_ROLES } from '../../database/schema.js';
import { EmailAddress } from '../../common/email.js';
import { EMAIL_PROPERTY, trimmedText } from '../../common/openapi/schema-rules.js';
import { LOCALE_PROPERTY, UserDto } from '../users/users.dto.js';

const NEW_PASSWORD = {
  minLength: PASSWORD_MIN_LENGTH,
  maxLength: PASSWORD_MAX_LENGTH,
  example: 'correct horse battery staple',
  description: `${PASSWORD_MIN_LENGTH}..${PASSWORD_MAX_LENGTH} characters (longer is rejected before hashing)`,
};

/** Decorators of a new password: 8..128 characters, checked before any hashing. */
function NewPassword(): PropertyDecorator {
  return applyDecorators(IsString(), Length(PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH));
}

/** An existing password to verify: non-empty, capped so nobody makes us hash megabytes. */
function CurrentPassword(): PropertyDecorator {
  return applyDecorators(IsString(), MinLength(1), MaxLength(PASSWORD_MAX_LENGTH));
}

export class SignUpDto {
  @ApiProperty(EMAIL_PROPERTY)
  @EmailAddress()
  email!: string;

  @ApiProperty(NEW_PASSWORD)
  @NewPassword()
  password!: string;

  // @IsOptional() lets null through: null is the same as no name.
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'Ada Lovelace',
    ...trimmedText(100),
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({
    minLength: 1,
    maxLength: 2048,
    description:
      'Token from an invitation email: joins that team with the invited role instead of creating a team. Must be addressed to `email`.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 2048)
  inviteToken?: string;

  @ApiPropertyOptional({
    ...LOCALE_PROPERTY,
    description: `${LOCALE_PROPERTY.description} Without it: the best supported match of the Accept-Language header (q-values honoured, \`de-AT\` → \`de\`), else \`en\`.`,
  })
  @IsOptional()
  @IsIn(SUPPORTED_LOCALES)
  locale?: string;
}

export class SignInDto {
  @ApiProperty(EMAIL_PROPERTY)
  @EmailAddress()
  email!: string;

  @ApiProperty({
    example: 'correct horse battery staple',
    minLength: 1,
    maxLength: PASSWORD_MAX_LENGTH,
  })
  @CurrentPassword()
  password!: string;
}

export class RefreshDto {
  @ApiProperty({
    minLength: 1,
    maxLength: 200,
    description: 'The refresh token from sign-up, sign-in or the previous refresh',
  })
  @IsString()
  @Length(1, 200)
  refreshToken!: string;
}

export class PasswordResetRequestDto {
  @ApiProperty(EMAIL_PROPERTY)
  @EmailAddress()
  email!: string;
}

export class PasswordResetConfirmDto {
  @ApiProperty({
    minLength: 1,
    maxLength: 200,
    description: 'The `token` parameter of the emailed link',
  })
  @IsString()
  @Length(1, 200)
  token!: string;

  @ApiProperty(NEW_PASSWORD)
  @NewPassword()
  newPassword!: string;
}

export class VerifyEmailDto {
  @ApiProperty({
    description: 'The `token` parameter of the emailed link (APP_URL/verify-email?token=…)',
  })
  @IsString()
  @Length(1, 200)
  token!: string;
}

export class ChangePasswordDto {
  @ApiProperty({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH })
  @CurrentPassword()
  currentPassword!: string;

  @ApiProperty(NEW_PASSWORD)
  @NewPassword()
  newPassword!: string;
}

export class DeleteAccountDto {
  @ApiProperty({
    minLength: 1,
    maxLength: PASSWORD_MAX_LENGTH,
    description: 'The current password, as confirmation',
  })
  @CurrentPassword()
  password!: string;
}

export class TokensDto {
  @ApiProperty({ description: 'JWT (HS256) for `Authorization: Bearer`; short-lived' })
  accessToken!: string;

  @ApiProperty({
    description:
      'Opaque; exchange it at POST /auth/refresh. Single use: every refresh returns a new one, and replaying an old one revokes the session.',
  })
  refreshToken!: string;

  @ApiProperty({ enum: ['Bearer'], example: 'Bearer' })
  tokenType!: 'Bearer';

  @ApiProperty({
    type: 'integer',
    example: 900,
    description: 'Seconds until the access token expires (JWT_ACCESS_TTL)',
  })
  expiresIn!: number;
}

export class SignInResponseDto extends TokensDto {
  @ApiProperty({ type: UserDto })
  user!: UserDto;
}

export class SignUpTeamDto {
  @ApiProperty({ type: 'integer', example: 7 })
  id!: number;

  @ApiProperty({ example: "ada@example.com's Team" })
  name!: string;

  @ApiProperty({ enum: TEAM_ROLES, example: 'owner', description: 'My role in the team' })
  role!: string;
}

export class SignUpResponseDto extends SignInResponseDto {
  @ApiProperty({
    type: SignUpTeamDto,
    description: 'The team created for me, or joined by invitation',
  })
  team!: SignUpTeamDto;
}

/** The back office's "Set password" form (no API route): a new password by the API's rules. */
export class AdminSetPasswordDto {
  @NewPassword()
  password!: string;
}
