import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Length, MaxLength, MinLength } from 'class-validator';
import { PASSWORD_MAX_LENGTH } from '../../common/crypto/password-hasher.js';
import { RECOVERY_CODE_COUNT, TOTP_ISSUER } from './totp.js';
import { SignInResponseDto } from './auth.dto.js';

const PASSWORD = {
  minLength: 1,
  maxLength: PASSWORD_MAX_LENGTH,
  description: 'My current password, as confirmation',
};

const CODE = {
  minLength: 1,
  maxLength: 64,
  example: '123456',
};

/** Shortest reason an admin must give to switch off a user's MFA (the identity check made). */
export const ADMIN_MFA_REASON_MIN_LENGTH = 10;
export const ADMIN_MFA_REASON_MAX_LENGTH = 500;

/**
 * The back office's "Disable MFA" form (no API route): why, after which identity check. The
 * reason is trimmed, required and kept in the activity row (ADMIN_DISABLE_MFA).
 */
export class AdminDisableMfaDto {
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @MinLength(ADMIN_MFA_REASON_MIN_LENGTH)
  @MaxLength(ADMIN_MFA_REASON_MAX_LENGTH)
  reason!: string;
}

export class MfaPasswordDto {
  @ApiProperty(PASSWORD)
  @IsString()
  @MinLength(1)
  @MaxLength(PASSWORD_MAX_LENGTH)
  password!: string;
}

export class MfaConfirmDto {
  @ApiProperty({
    ...CODE,
    description: 'The 6-digit code the authenticator app shows now (spaces ignored)',
  })
  @IsString()
  @Length(1, 64)
  code!: string;
}

export class MfaCodeDto extends MfaPasswordDto {
  @ApiProperty({
    ...CODE,
    description:
      'A current 6-digit code from the authenticator app, or one unused recovery code (which is then used up)',
  })
  @IsString()
  @Length(1, 64)
  code!: string;
}

export class TotpEnrolmentDto {
  @ApiProperty({
    example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
    description: 'The shared secret, base32 (for manual entry in the authenticator app)',
  })
  secret!: string;

  @ApiProperty({
    example: `otpauth://totp/${TOTP_ISSUER}:ada%40example.com?issuer=${TOTP_ISSUER}&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30`,
    description: 'The same secret as an otpauth:// URL (show it as a QR code)',
  })
  otpauthUrl!: string;
}

export class RecoveryCodesDto {
  @ApiProperty({
    type: [String],
    minItems: RECOVERY_CODE_COUNT,
    maxItems: RECOVERY_CODE_COUNT,
    example: [
      'abcd-efgh-ijkm',
      'nopq-rstu-vwxy',
      'z234-567a-bcde',
      'fghi-jkmn-opqr',
      'stuv-wxyz-2345',
      '67ab-cdef-ghij',
      'kmno-pqrs-tuvw',
      'xyz2-3456-7abc',
      'defg-hijk-mnop',
      'qrst-uvwx-yz23',
    ],
    description:
      'Shown this once (stored hashed). Each signs in once in place of a TOTP code; a new set replaces every earlier code.',
  })
  recoveryCodes!: string[];
}

export class MfaRequiredDto {
  @ApiProperty({ enum: [true], example: true })
  mfaRequired!: true;

  @ApiProperty({
    description:
      'Send it with a code to POST /auth/sign-in/mfa within 5 minutes; single use (no tokens were issued yet)',
  })
  mfaToken!: string;
}

/** What a password (or OpenID) sign-in answers: tokens, or the request for a second factor. */
export type SignInResultDto = SignInResponseDto | MfaRequiredDto;

export class SignInMfaDto {
  @ApiProperty({ minLength: 1, maxLength: 200, description: 'From the 200 of POST /auth/sign-in' })
  @IsString()
  @Length(1, 200)
  mfaToken!: string;

  @ApiProperty({
    ...CODE,
    description: 'A current 6-digit TOTP code, or one unused recovery code',
  })
  @IsString()
  @Length(1, 64)
  code!: string;
}
