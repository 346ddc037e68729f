import { Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { AllowUnverifiedEmail } from '../../common/decorators/allow-unverified-email.decorator.js';
import { Authenticated } from '../../common/decorators/authenticated.decorator.js';
import { ClientIp } from '../../common/decorators/client-ip.decorator.js';
import type { UserActor } from '../../common/auth/actor.js';
import { CurrentUserActor } from '../../common/decorators/current-actor.decorator.js';
import { Public } from '../../common/decorators/public.decorator.js';
import { UserAgent } from '../../common/decorators/user-agent.decorator.js';
import { AcceptLanguage } from '../../common/i18n/accept-language.decorator.js';
import type { Locale } from '../../common/i18n/locales.js';
import { CommonErrors } from '../../common/errors/common.errors.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { PlanErrors } from '../plans/plans.errors.js';
import { RateLimit } from '../../common/rate-limit/rate-limit.guard.js';
import { AUDIT_TEAM_RULE } from '../audit/audit-policy.js';
import { InvitationErrors } from '../invitations/invitations.errors.js';
import { UserErrors } from '../users/users.errors.js';
import {
  PasswordResetConfirmDto,
  PasswordResetRequestDto,
  RefreshDto,
  SignInDto,
  SignInResponseDto,
  SignUpDto,
  SignUpResponseDto,
  TokensDto,
  VerifyEmailDto,
} from './auth.dto.js';
import { AuthErrors } from './auth.errors.js';
import { AuthService } from './auth.service.js';
import { CredentialsService } from './credentials.service.js';
import { EmailVerificationService } from './email-verification.service.js';
import { MfaRequiredDto, SignInMfaDto, type SignInResultDto } from './mfa.dto.js';

@ApiTags('auth')
@ApiExtraModels(SignInResponseDto, MfaRequiredDto)
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly credentials: CredentialsService,
    private readonly verification: EmailVerificationService,
  ) {}

  @Post('sign-up')
  @Public()
  @RateLimit('sign-up')
  @ApiOperation({
    summary: 'Create an account',
    description:
      'Without `inviteToken`: creates the user, a team "<email>\'s Team" with the user as owner, and a session, in one transaction; records SIGN_UP and CREATE_TEAM against the new team. The email starts unverified: after the commit a single-use link valid 24 hours (APP_URL/verify-email?token=…) is mailed to it; a mail failure does not fail the sign-up (POST /auth/verify-email/resend sends another). With `inviteToken`: joins the invited team instead (SIGN_UP + ACCEPT_INVITATION), and the email is verified at once (the invitation link proved the mailbox). Rate limited per IP and per email.',
  })
  @ApiCreatedResponse({ type: SignUpResponseDto })
  @ApiErrors(
    UserErrors.emailTaken,
    InvitationErrors.invalidToken,
    InvitationErrors.emailMismatch,
    InvitationErrors.notFound,
    InvitationErrors.alreadyAccepted,
    InvitationErrors.declined,
    InvitationErrors.revoked,
    InvitationErrors.expired,
    // With an invite token: the team has no room left for a member (max_members).
    PlanErrors.limitReached,
  )
  signUp(
    @Body() dto: SignUpDto,
    @ClientIp() ip: string | null,
    @AcceptLanguage() acceptLanguage: Locale | undefined,
    @UserAgent() userAgent?: string,
  ): Promise<SignUpResponseDto> {
    return this.auth.signUp(dto, { ip, userAgent }, acceptLanguage);
  }

  @Post('sign-in')
  @Public()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Sign in with email and password',
    description: `Unknown email, wrong password and deleted account give the same 401 and about the same time. Failed attempts are limited per client IP (RATE_LIMIT_PER_IP) and per client IP and email (RATE_LIMIT_PER_EMAIL) per RATE_LIMIT_WINDOW: past either, 429 even for the right password (right passwords are not counted). Failures for one email from anywhere never refuse it: past RATE_LIMIT_PER_EMAIL of them its sign-ins are slowed down (250 ms, doubling, at most RATE_LIMIT_SLOWDOWN_MAX_MS), so the right password from another IP still signs in. Shared with the /admin login. Without two-factor sign-in: opens a session, returns its tokens and records SIGN_IN. With MFA on (\`mfaEnabled\`), the right password answers \`{mfaRequired: true, mfaToken}\` and no tokens: send the mfaToken with a code to POST /auth/sign-in/mfa within 5 minutes. While a team enforces SSO for the address's domain (its verified domains, an enabled connection with \`enforced\`), 403 \`auth.sso_required\` with \`details: [{ssoUrl}]\` (GET /auth/sso for this address), decided by the domain before any password check. ${AUDIT_TEAM_RULE}`,
  })
  @ApiOkResponse({
    description: 'Signed in (tokens + user), or a second factor is required (`mfaRequired`)',
    schema: {
      oneOf: [{ $ref: getSchemaPath(SignInResponseDto) }, { $ref: getSchemaPath(MfaRequiredDto) }],
    },
  })
  @ApiErrors(AuthErrors.invalidCredentials, AuthErrors.ssoRequired, CommonErrors.rateLimited)
  signIn(
    @Body() dto: SignInDto,
    @ClientIp() ip: string | null,
    @UserAgent() userAgent?: string,
  ): Promise<SignInResultDto> {
    return this.auth.signIn(dto, { ip, userAgent });
  }

  @Post('sign-in/mfa')
  @Public()
  @HttpCode(HttpStatus.OK)
  @RateLimit('sign-in-mfa')
  @ApiOperation({
    summary: 'Second step of a sign-in with two-factor sign-in on',
    description: `The \`mfaToken\` from POST /auth/sign-in (valid 5 minutes, single use) with a current 6-digit TOTP code (±30 s of clock drift; a code is accepted once, a replay is refused) or one unused recovery code (used up). Opens the session and records SIGN_IN. A wrong code leaves the mfaToken usable until it expires; wrong codes are limited per user (RATE_LIMIT_PER_EMAIL per RATE_LIMIT_WINDOW, shared with the MFA settings routes and the /admin login): past the limit even a right code answers 429. Also throttled per client IP (RATE_LIMIT_TOKEN_PER_IP requests per RATE_LIMIT_WINDOW). ${AUDIT_TEAM_RULE}`,
  })
  @ApiOkResponse({ type: SignInResponseDto })
  @ApiErrors(AuthErrors.invalidMfaToken, AuthErrors.invalidMfaCode, CommonErrors.rateLimited)
  signInMfa(
    @Body() dto: SignInMfaDto,
    @ClientIp() ip: string | null,
    @UserAgent() userAgent?: string,
  ): Promise<SignInResponseDto> {
    return this.auth.signInWithMfa(dto, { ip, userAgent });
  }

  @Post('refresh')
  @Public()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Exchange a refresh token for a new token pair',
    description:
      'The presented refresh token stops working (rotation). Presenting an already-rotated token revokes the whole session. The session then lives JWT_REFRESH_TTL seconds from this refresh.',
  })
  @ApiOkResponse({ type: TokensDto })
  @ApiErrors(AuthErrors.invalidRefreshToken)
  refresh(@Body() dto: RefreshDto): Promise<TokensDto> {
    return this.auth.refresh(dto.refreshToken);
  }

  @Post('sign-out')
  @Authenticated()
  @AllowUnverifiedEmail()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Sign out this session',
    description: `Its access and refresh tokens stop working at once. Records SIGN_OUT. ${AUDIT_TEAM_RULE}`,
  })
  @ApiNoContentResponse({ description: 'Signed out' })
  signOut(@CurrentUserActor() actor: UserActor): Promise<void> {
    return this.auth.signOut(actor);
  }

  @Post('verify-email')
  @Public()
  @HttpCode(HttpStatus.NO_CONTENT)
  @RateLimit('verify-email')
  @ApiOperation({
    summary: 'Verify an email address with the emailed token',
    description:
      'For the holder of the link (no access token needed). Uses the token once. A link sent at sign-up or by resend verifies my current email; a link sent by an email change (PATCH /users/me) makes the pending address my email, verified. Records VERIFY_EMAIL (nothing is recorded, and nothing changes, when the address was already verified). Throttled per client IP (RATE_LIMIT_TOKEN_PER_IP requests per RATE_LIMIT_WINDOW). ' +
      AUDIT_TEAM_RULE,
  })
  @ApiNoContentResponse({ description: 'Verified' })
  @ApiErrors(AuthErrors.invalidVerificationToken, UserErrors.emailTaken)
  verifyEmail(@Body() dto: VerifyEmailDto, @ClientIp() ip: string | null): Promise<void> {
    return this.verification.confirm(dto.token, ip);
  }

  @Post('verify-email/resend')
  @Authenticated()
  @AllowUnverifiedEmail()
  @HttpCode(HttpStatus.ACCEPTED)
  @RateLimit('email-verification')
  @ApiOperation({
    summary: 'Send me a new verification link',
    description:
      'A fresh link (24 hours, single use; older unused links for the same address stop working) to my email if it is not verified, and to my pending email if an email change waits. No mail when my email is verified and nothing is pending. The mail is sent after the response.',
  })
  @ApiAcceptedResponse({ description: 'Accepted (no body)' })
  resendVerification(@CurrentUserActor() actor: UserActor): Promise<void> {
    return this.verification.resend(actor);
  }

  @Post('password-reset')
  @Public()
  @HttpCode(HttpStatus.ACCEPTED)
  @RateLimit('password-reset')
  @ApiOperation({
    summary: 'Request a password reset email',
    description:
      '202 whether or not an account uses this email. If one does, it receives a single-use link (APP_URL/reset-password?token=...) valid for 1 hour. While a team enforces SSO for the address’s domain (its verified domains, an enabled connection with `enforced`), 403 `auth.sso_required` with `details: [{ssoUrl}]` (GET /auth/sso for this address), whether or not an account uses it.',
  })
  @ApiAcceptedResponse({ description: 'Accepted (no body)' })
  @ApiErrors(AuthErrors.ssoRequired)
  requestReset(@Body() dto: PasswordResetRequestDto): Promise<void> {
    return this.credentials.requestReset(dto.email);
  }

  @Post('password-reset/confirm')
  @Public()
  @HttpCode(HttpStatus.NO_CONTENT)
  @RateLimit('password-reset-confirm')
  @ApiOperation({
    summary: 'Set a new password with the emailed token',
    description: `Uses the token once; every session of the user ends (their back-office sessions at /admin too), other outstanding links stop working. Records UPDATE_PASSWORD. A token of an address whose domain came under SSO enforcement is refused with 403 \`auth.sso_required\` (and stays unused). Throttled per client IP (RATE_LIMIT_TOKEN_PER_IP requests per RATE_LIMIT_WINDOW). ${AUDIT_TEAM_RULE}`,
  })
  @ApiNoContentResponse({ description: 'Password changed' })
  @ApiErrors(AuthErrors.invalidResetToken, AuthErrors.ssoRequired)
  confirmReset(@Body() dto: PasswordResetConfirmDto, @ClientIp() ip: string | null): Promise<void> {
    return this.credentials.confirmReset(dto, ip);
  }
}
