import { Body, Controller, Get, HttpCode, HttpStatus, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Actor, UserActor } from '../../common/auth/actor.js';
import { CurrentActor, CurrentUserActor } from '../../common/decorators/current-actor.decorator.js';
import { CommonErrors } from '../../common/errors/common.errors.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { PlanErrors } from '../plans/plans.errors.js';
import { ApiVerifiedEmailRequired } from '../../common/openapi/api-verified-email.decorator.js';
import { ApiIdParam } from '../../common/openapi/api-id-param.decorator.js';
import { PageQueryDto } from '../../common/http/pagination.js';
import { TeamRole } from '../access/team-role.decorator.js';
import { TeamErrors } from '../teams/teams.errors.js';
import {
  AcceptInvitationByTokenDto,
  AcceptedInvitationDto,
  CreateInvitationDto,
  InvitationDto,
  InvitationPageDto,
} from './invitations.dto.js';
import { InvitationErrors } from './invitations.errors.js';
import { InvitationsService } from './invitations.service.js';
import { Authenticated } from '../../common/decorators/authenticated.decorator.js';
import { IdParam } from '../../common/http/parse-id.pipe.js';
import { DeleteNoContent } from '../../common/openapi/delete-no-content.decorator.js';
import { TeamController } from '../access/team-controller.decorator.js';

// `invitation.not_found` also for invitations addressed to someone else: ids never reveal other people's invitations.
const INVITATION_PARAM = ApiIdParam('invitationId', 'Invitation id');
const ANSWER_ERRORS = [
  InvitationErrors.notFound,
  InvitationErrors.alreadyAccepted,
  InvitationErrors.declined,
  InvitationErrors.revoked,
  InvitationErrors.expired,
];

@TeamController('invitations', 'invitations')
export class TeamInvitationsController {
  constructor(private readonly invitations: InvitationsService) {}

  @Get()
  @TeamRole('owner', { apiKey: 'invitations:write' })
  @ApiOperation({
    summary: "The team's pending invitations",
    description: 'Pending and not yet expired (invitedAt + 7 days), newest first, paginated.',
  })
  @ApiOkResponse({ type: InvitationPageDto })
  list(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @Query() query: PageQueryDto,
  ): Promise<InvitationPageDto> {
    return this.invitations.listForTeam(actor, teamId, query);
  }

  @Post()
  @TeamRole('owner', { apiKey: 'invitations:write' })
  @ApiOperation({
    summary: 'Invite someone by email',
    description:
      "Queues an email (sent after the commit, retried while the mail server is down) with a link `${APP_URL}/invitations/accept?token=…`; the token (`inv2.<invitationId>.<expiresAt>.<hmac>`) names the invitation and its expiry, 7 days after the invitation, but not the address: its HMAC-SHA256 (key derived from JWT_SECRET) covers the id, the expiry and the invited email, which is checked against the stored invitation. A new user passes it as `inviteToken` to sign-up; an existing user accepts from `GET /invitations`. A pending invitation that already expired is retired (status `expired`) and replaced. With a team API key, `invitedBy` is the creator of the key (403 `team.forbidden` if that account is deleted), and `role` must be `member`: a key never creates or grants the `owner` role (403 `api_key.role_forbidden`, nothing written). Invitation mails are rate limited per inviter (for a key, its creator), per team and per recipient address, re-invitations included (`INVITATION_RATE_LIMIT_*`): past a limit 429 `request.rate_limited` with `Retry-After`, nothing written. The names of the team and of the inviter appear in the mail as plain text that mail clients do not turn into links (dots and colons inside them are bracketed: `evil[.]example[.]com`). Members plus pending (unexpired) invitations plus this one must stay within the plan's `max_members` (see `GET /teams/{teamId}/plan`): else 402 `plan.limit_reached` with `details: [{limit, max, used}]`, nothing written. Logs INVITE_TEAM_MEMBER (by the caller; for a key, its creator) in the same transaction.",
  })
  @ApiCreatedResponse({ type: InvitationDto })
  @ApiErrors(
    InvitationErrors.alreadyMember,
    InvitationErrors.alreadyInvited,
    TeamErrors.apiKeyRoleForbidden,
    CommonErrors.rateLimited,
    PlanErrors.limitReached,
  )
  @ApiVerifiedEmailRequired()
  invite(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @Body() dto: CreateInvitationDto,
  ): Promise<InvitationDto> {
    return this.invitations.invite(actor, teamId, dto);
  }

  @DeleteNoContent(':invitationId', 'Revoked')
  @TeamRole('owner', { apiKey: 'invitations:write' })
  @ApiOperation({
    summary: 'Revoke an invitation',
    description:
      'Status becomes `revoked`; revoking a revoked invitation again is a no-op. Logs REVOKE_INVITATION (by the caller) in the same transaction, only when the status changed.',
  })
  @INVITATION_PARAM
  @ApiErrors(InvitationErrors.notFound, InvitationErrors.alreadyAccepted, InvitationErrors.declined)
  revoke(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @IdParam('invitationId') invitationId: number,
  ): Promise<void> {
    return this.invitations.revokeAsOwner(actor, teamId, invitationId);
  }
}

@ApiTags('invitations')
@Authenticated()
@Controller('invitations')
export class MyInvitationsController {
  constructor(private readonly invitations: InvitationsService) {}

  @Get()
  @ApiOperation({
    summary: 'Pending invitations addressed to my email',
    description:
      'Not yet expired, newest first, paginated. Empty while my email is not verified (`emailVerified` in GET /users/me): an address counts as mine only once proven.',
  })
  @ApiOkResponse({ type: InvitationPageDto })
  listMine(
    @CurrentUserActor() actor: UserActor,
    @Query() query: PageQueryDto,
  ): Promise<InvitationPageDto> {
    return this.invitations.listMine(actor, query);
  }

  // Declared before ':invitationId/accept' (a different number of segments, so they cannot
  // clash, but reading order then matches matching order).
  @Post('accept')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Accept an invitation with the token of its link',
    description:
      'For a signed-in user who received the invitation email: `token` must verify against the invitation and the invitation must be addressed to my email. Joins the team with the invited role and logs ACCEPT_INVITATION, in one transaction; if my email was not verified, it is now (the link proved the mailbox). Race-safe: concurrent accepts give one membership; every later accept answers 409 `invitation.already_accepted`.',
  })
  @ApiOkResponse({ type: AcceptedInvitationDto })
  @ApiErrors(
    InvitationErrors.invalidToken,
    InvitationErrors.notForMe,
    InvitationErrors.alreadyAccepted,
    InvitationErrors.declined,
    InvitationErrors.revoked,
    InvitationErrors.expired,
    // The team's webhook events count against its event limit (WebhooksService.emit).
    CommonErrors.rateLimited,
    PlanErrors.limitReached,
  )
  acceptByToken(
    @CurrentUserActor() actor: UserActor,
    @Body() dto: AcceptInvitationByTokenDto,
  ): Promise<AcceptedInvitationDto> {
    return this.invitations.acceptByToken(actor, dto.token);
  }

  @Post(':invitationId/accept')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Accept an invitation addressed to my email',
    description:
      'Only with a verified email (403 `email.unverified` otherwise). Joins the team with the invited role and logs ACCEPT_INVITATION, in one transaction. Race-safe: concurrent accepts give one membership; every later accept answers 409 `invitation.already_accepted`.',
  })
  @INVITATION_PARAM
  @ApiOkResponse({ type: AcceptedInvitationDto })
  @ApiErrors(...ANSWER_ERRORS, CommonErrors.rateLimited, PlanErrors.limitReached)
  accept(
    @CurrentUserActor() actor: UserActor,
    @IdParam('invitationId') invitationId: number,
  ): Promise<AcceptedInvitationDto> {
    return this.invitations.accept(actor, invitationId);
  }

  @Post(':invitationId/decline')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Decline an invitation addressed to my email',
    description:
      "Only with a verified email (403 `email.unverified` otherwise). Status becomes `declined`. Logs DECLINE_INVITATION (by me, against the inviting team, which I do not belong to) in the same transaction; it shows in that team's activity log.",
  })
  @INVITATION_PARAM
  @ApiNoContentResponse({ description: 'Declined' })
  @ApiErrors(...ANSWER_ERRORS)
  decline(
    @CurrentUserActor() actor: UserActor,
    @IdParam('invitationId') invitationId: number,
  ): Promise<void> {
    return this.invitations.decline(actor, invitationId);
  }
}
