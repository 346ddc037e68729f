import { Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { userActor } from '../../common/auth/actor.js';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { Authenticated } from '../../common/decorators/authenticated.decorator.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { CommonErrors } from '../../common/errors/common.errors.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { ApiVerifiedEmailRequired } from '../../common/openapi/api-verified-email.decorator.js';
import { RateLimit } from '../../common/rate-limit/rate-limit.guard.js';
import { AUDIT_TEAM_RULE } from '../audit/audit-policy.js';
import { AuthErrors } from './auth.errors.js';
import {
  MfaCodeDto,
  MfaConfirmDto,
  MfaPasswordDto,
  RecoveryCodesDto,
  TotpEnrolmentDto,
} from './mfa.dto.js';
import { MfaService } from './mfa.service.js';
import { DeleteNoContent } from '../../common/openapi/delete-no-content.decorator.js';

const WRONG_CODE_LIMIT =
  'Wrong codes are limited per user (RATE_LIMIT_PER_EMAIL per RATE_LIMIT_WINDOW, shared with the sign-in second step): past the limit even a right code answers 429.';

/** Two-factor sign-in settings of the signed-in user (API.md v1.1). */
@ApiTags('mfa')
@Authenticated()
@Controller('users/me/mfa')
export class MfaController {
  constructor(private readonly mfa: MfaService) {}

  @Post('totp')
  @HttpCode(HttpStatus.OK)
  @RateLimit('password-confirm')
  @ApiOperation({
    summary: 'Start TOTP enrolment',
    description:
      'Confirmed with my password. Returns a new secret (also as an otpauth:// URL for a QR code): SHA-1, 6 digits, 30 s. Not active until POST /users/me/mfa/totp/confirm; calling this again replaces a pending secret. 409 `mfa.already_enabled` when MFA is on. The secret is stored encrypted.',
  })
  @ApiOkResponse({ type: TotpEnrolmentDto })
  @ApiVerifiedEmailRequired()
  @ApiErrors(AuthErrors.wrongPassword, AuthErrors.mfaAlreadyEnabled)
  enrol(@CurrentUser() auth: AuthUser, @Body() dto: MfaPasswordDto): Promise<TotpEnrolmentDto> {
    return this.mfa.startEnrolment(userActor(auth), dto.password);
  }

  @Post('totp/confirm')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Confirm TOTP enrolment with a first code',
    description: `Turns two-factor sign-in on and returns ten recovery codes (shown once). Every other session of mine ends (my back-office sessions at /admin too). Sign-ins then need a code (POST /auth/sign-in/mfa). ${WRONG_CODE_LIMIT} Records ENABLE_MFA. ${AUDIT_TEAM_RULE}`,
  })
  @ApiOkResponse({ type: RecoveryCodesDto })
  @ApiVerifiedEmailRequired()
  @ApiErrors(
    AuthErrors.mfaWrongCode,
    AuthErrors.mfaNotPending,
    AuthErrors.mfaAlreadyEnabled,
    CommonErrors.rateLimited,
  )
  confirm(@CurrentUser() auth: AuthUser, @Body() dto: MfaConfirmDto): Promise<RecoveryCodesDto> {
    return this.mfa.confirmEnrolment(userActor(auth), dto.code);
  }

  @DeleteNoContent('totp', 'Two-factor sign-in is off')
  @RateLimit('password-confirm')
  @ApiOperation({
    summary: 'Turn two-factor sign-in off',
    description: `Needs my password and a current code (or a recovery code). The secret, the recovery codes and pending sign-in steps are deleted; sessions stay. ${WRONG_CODE_LIMIT} Records DISABLE_MFA. ${AUDIT_TEAM_RULE}`,
  })
  @ApiErrors(AuthErrors.wrongPassword, AuthErrors.mfaWrongCode, AuthErrors.mfaNotEnabled)
  disable(@CurrentUser() auth: AuthUser, @Body() dto: MfaCodeDto): Promise<void> {
    return this.mfa.disable(userActor(auth), dto);
  }

  @Post('recovery-codes')
  @HttpCode(HttpStatus.OK)
  @RateLimit('password-confirm')
  @ApiOperation({
    summary: 'Replace my recovery codes',
    description: `Needs my password and a current code (or a recovery code). Returns ten new codes; every earlier one, used or not, stops working. ${WRONG_CODE_LIMIT}`,
  })
  @ApiOkResponse({ type: RecoveryCodesDto })
  @ApiErrors(AuthErrors.wrongPassword, AuthErrors.mfaWrongCode, AuthErrors.mfaNotEnabled)
  regenerate(@CurrentUser() auth: AuthUser, @Body() dto: MfaCodeDto): Promise<RecoveryCodesDto> {
    return this.mfa.regenerateRecoveryCodes(userActor(auth), dto);
  }
}
