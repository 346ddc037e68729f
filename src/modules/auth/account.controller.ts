import { Body, Controller, HttpCode, HttpStatus, Patch, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { UserActor } from '../../common/auth/actor.js';
import { CurrentUserActor } from '../../common/decorators/current-actor.decorator.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { BillingErrors } from '../billing/billing.errors.js';
import { UserErrors } from '../users/users.errors.js';
import { AuthErrors } from './auth.errors.js';
import { RateLimit } from '../../common/rate-limit/rate-limit.guard.js';
import { AUDIT_TEAM_RULE } from '../audit/audit-policy.js';
import { UpdateMeDto, UserDto } from '../users/users.dto.js';
import { ChangePasswordDto, DeleteAccountDto } from './auth.dto.js';
import { AccountService } from './account.service.js';
import { CredentialsService } from './credentials.service.js';
import { Authenticated } from '../../common/decorators/authenticated.decorator.js';
import { DeleteNoContent } from '../../common/openapi/delete-no-content.decorator.js';

/** Account-security operations under /users/me; they live in auth (see CONVENTIONS). */
@ApiTags('users')
@Authenticated()
@Controller('users/me')
export class AccountController {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly account: AccountService,
  ) {}

  // Here rather than in users: an email change is an account-security operation now (the new
  // address must be proven before it is used).
  @Patch()
  @RateLimit('email-verification')
  @ApiOperation({
    summary: 'Update my name and/or email',
    description: `At least one field. The name changes at once. A new email (trimmed, lower-cased) does not: it becomes \`pendingEmail\`, a single-use link valid 24 hours goes to it (APP_URL/verify-email?token=…) and a notice to my current address, which stays in use until the link is used (POST /auth/verify-email). A newer request replaces the pending address (its older links stop working); my current address cancels it. Rate limited with POST /auth/verify-email/resend (it sends mail). Records UPDATE_ACCOUNT. ${AUDIT_TEAM_RULE}`,
  })
  @ApiOkResponse({ type: UserDto, description: 'Me; a requested email shows as `pendingEmail`' })
  @ApiErrors(UserErrors.emptyUpdate, UserErrors.emailTaken)
  update(@CurrentUserActor() actor: UserActor, @Body() dto: UpdateMeDto): Promise<UserDto> {
    return this.account.updateMe(actor, dto);
  }

  @Put('password')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RateLimit('password-confirm')
  @ApiOperation({
    summary: 'Change my password',
    description: `This session stays signed in; every other session ends (my back-office sessions at /admin too) and outstanding reset links stop working. Records UPDATE_PASSWORD. ${AUDIT_TEAM_RULE}`,
  })
  @ApiNoContentResponse({ description: 'Password changed' })
  @ApiErrors(AuthErrors.wrongPassword, AuthErrors.unauthorized)
  changePassword(
    @CurrentUserActor() actor: UserActor,
    @Body() dto: ChangePasswordDto,
  ): Promise<void> {
    return this.credentials.changePassword(actor, dto);
  }

  @DeleteNoContent(undefined, 'Account deleted')
  @RateLimit('password-confirm')
  @ApiOperation({
    summary: 'Delete my account',
    description:
      'Soft delete, confirmed with the password: deletedAt is set, the email is rewritten (deleted+<id>+<random>@deleted.invalid) so the address is free again, memberships are removed, every session ends. A team whose only member was me stays, without members. Records DELETE_ACCOUNT against my first team, before the memberships go (no team: no row). 409 `user.last_owner` when I am the only owner of a team that has other members, 409 `billing.active_subscription` when I am the only owner of a team whose subscription is trialing, active, past_due, unpaid or paused (cancel it in the customer portal first); both list the teams in `details`.',
  })
  @ApiErrors(
    AuthErrors.wrongPassword,
    AuthErrors.unauthorized,
    UserErrors.lastOwner,
    BillingErrors.activeSubscription,
  )
  deleteMe(@CurrentUserActor() actor: UserActor, @Body() dto: DeleteAccountDto): Promise<void> {
    return this.account.deleteMe(actor, dto);
  }
}
