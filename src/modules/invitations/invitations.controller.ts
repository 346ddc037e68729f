import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiGoneResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { ErrorResponseDto } from '../../common/errors/error-response.dto.js';
import { ParseIdPipe } from '../../common/http/parse-id.pipe.js';
import { PageQueryDto } from '../../common/http/pagination.js';
import { TeamRole } from '../teams/team-role.decorator.js';
import {
  AcceptInvitationByTokenDto,
  AcceptedInvitationDto,
  CreateInvitationDto,
  InvitationDto,
  InvitationPageDto,
} from './invitations.dto.js';
import { InvitationsService } from './invitations.service.js';
import {
  Authenticated,
  EMAIL_UNVERIFIED_403,
} from '../../common/decorators/authenticated.decorator.js';

const INVITATION_PARAM = { name: 'invitationId', type: 'integer', description: 'Invitation id' };
const UNVERIFIED =
  '`email.unverified`: my email is not verified yet, so invitations to it are not mine to answer (verify it, or accept with the link: POST /invitations/accept)';
const NOT_MINE =
  "`invitation.not_found`: no such invitation, or it is addressed to another email (ids never reveal other people's invitations)";

@ApiTags('invitations')
@Controller('teams/:teamId/invitations')
export class TeamInvitationsController {
  constructor(private readonly invitations: InvitationsService) {}

  @Get()
  @TeamRole('owner')
  @ApiOperation({
    summary: "The team's pending invitations",
    description: 'Pending and not yet expired (invitedAt + 7 days), newest first, paginated.',
  })
  @ApiOkResponse({ type: InvitationPageDto })
  list(
    @CurrentUser() auth: AuthUser,
    @Param('teamId', ParseIdPipe) teamId: number,
    @Query() query: PageQueryDto,
  ): Promise<InvitationPageDto> {
    return this.invitations.listForTeam(auth, teamId, query);
  }

  @Post()
  @TeamRole('owner')
  @ApiOperation({
    summary: 'Invite someone by email',
    description:
      'Sends an email with a link `${APP_URL}/invitations/accept?token=…`; the token (`inv2.<invitationId>.<expiresAt>.<hmac>`) names the invitation and its expiry, 7 days after the invitation, but not the address: its HMAC-SHA256 (key derived from JWT_SECRET) covers the id, the expiry and the invited email, which is checked against the stored invitation. A new user passes it as `inviteToken` to sign-up; an existing user accepts from `GET /invitations`. A pending invitation that already expired is retired (status `revoked`) and replaced. Logs INVITE_TEAM_MEMBER in the same transaction.',
  })
  @ApiCreatedResponse({ type: InvitationDto })
  @ApiConflictResponse({
    type: ErrorResponseDto,
    description:
      '`invitation.already_member` (the address belongs to a member) or `invitation.already_invited` (a pending invitation exists)',
  })
  @ApiServiceUnavailableResponse({
    type: ErrorResponseDto,
    description: '`invitation.mail_failed`: the email could not be sent; nothing was saved',
  })
  invite(
    @CurrentUser() auth: AuthUser,
    @Param('teamId', ParseIdPipe) teamId: number,
    @Body() dto: CreateInvitationDto,
  ): Promise<InvitationDto> {
    return this.invitations.invite(auth, teamId, dto);
  }

  @Delete(':invitationId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @TeamRole('owner', { notFound: '`invitation.not_found`: no such invitation in this team' })
  @ApiOperation({
    summary: 'Revoke an invitation',
    description:
      'Status becomes `revoked`; revoking a revoked invitation again is a no-op. Logs REVOKE_INVITATION (by the caller) in the same transaction, only when the status changed.',
  })
  @ApiParam(INVITATION_PARAM)
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiConflictResponse({
    type: ErrorResponseDto,
    description: '`invitation.already_accepted` or `invitation.declined`',
  })
  revoke(
    @CurrentUser() auth: AuthUser,
    @Param('teamId', ParseIdPipe) teamId: number,
    @Param('invitationId', ParseIdPipe) invitationId: number,
  ): Promise<void> {
    return this.invitations.revokeAsOwner(auth, teamId, invitationId);
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
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Invalid limit or cursor' })
  listMine(
    @CurrentUser() auth: AuthUser,
    @Query() query: PageQueryDto,
  ): Promise<InvitationPageDto> {
    return this.invitations.listMine(auth, query);
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
  @ApiBadRequestResponse({
    type: ErrorResponseDto,
    description:
      'Invalid body, or `invitation.invalid_token` (malformed, forged, unknown invitation)',
  })
  @ApiForbiddenResponse({
    type: ErrorResponseDto,
    description: `\`invitation.email_mismatch\`: the invitation is addressed to another email than mine; ${EMAIL_UNVERIFIED_403}`,
  })
  @ApiConflictResponse({
    type: ErrorResponseDto,
    description: '`invitation.already_accepted` or `invitation.declined`',
  })
  @ApiGoneResponse({
    type: ErrorResponseDto,
    description: '`invitation.revoked` or `invitation.expired` (7 days after it was sent)',
  })
  acceptByToken(
    @CurrentUser() auth: AuthUser,
    @Body() dto: AcceptInvitationByTokenDto,
  ): Promise<AcceptedInvitationDto> {
    return this.invitations.acceptByToken(auth, dto.token);
  }

  @Post(':invitationId/accept')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Accept an invitation addressed to my email',
    description:
      'Only with a verified email (403 `email.unverified` otherwise). Joins the team with the invited role and logs ACCEPT_INVITATION, in one transaction. Race-safe: concurrent accepts give one membership; every later accept answers 409 `invitation.already_accepted`.',
  })
  @ApiParam(INVITATION_PARAM)
  @ApiOkResponse({ type: AcceptedInvitationDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Invalid invitation id' })
  @ApiForbiddenResponse({ type: ErrorResponseDto, description: UNVERIFIED })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: NOT_MINE })
  @ApiConflictResponse({
    type: ErrorResponseDto,
    description: '`invitation.already_accepted` or `invitation.declined`',
  })
  @ApiGoneResponse({
    type: ErrorResponseDto,
    description: '`invitation.revoked` or `invitation.expired` (7 days after it was sent)',
  })
  accept(
    @CurrentUser() auth: AuthUser,
    @Param('invitationId', ParseIdPipe) invitationId: number,
  ): Promise<AcceptedInvitationDto> {
    return this.invitations.accept(auth, invitationId);
  }

  @Post(':invitationId/decline')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Decline an invitation addressed to my email',
    description:
      "Only with a verified email (403 `email.unverified` otherwise). Status becomes `declined`. Logs DECLINE_INVITATION (by me, against the inviting team, which I do not belong to) in the same transaction; it shows in that team's activity log.",
  })
  @ApiParam(INVITATION_PARAM)
  @ApiNoContentResponse({ description: 'Declined' })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Invalid invitation id' })
  @ApiForbiddenResponse({ type: ErrorResponseDto, description: UNVERIFIED })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: NOT_MINE })
  @ApiConflictResponse({
    type: ErrorResponseDto,
    description: '`invitation.already_accepted` or `invitation.declined`',
  })
  @ApiGoneResponse({
    type: ErrorResponseDto,
    description: '`invitation.revoked` or `invitation.expired`',
  })
  decline(
    @CurrentUser() auth: AuthUser,
    @Param('invitationId', ParseIdPipe) invitationId: number,
  ): Promise<void> {
    return this.invitations.decline(auth, invitationId);
  }
}
