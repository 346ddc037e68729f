import { Body, Controller, Get, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor, UserActor } from '../../common/auth/actor.js';
import { CurrentActor, CurrentUserActor } from '../../common/decorators/current-actor.decorator.js';
import { CommonErrors } from '../../common/errors/common.errors.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { ApiOkJson } from '../../common/openapi/ok-response.decorator.js';
import { ApiIdParam } from '../../common/openapi/api-id-param.decorator.js';
import { PageQueryDto } from '../../common/http/pagination.js';
import { TeamRole } from '../access/team-role.decorator.js';
import {
  CreateTeamDto,
  MyTeamsPageDto,
  TeamActivityPageDto,
  TeamActivityQueryDto,
  TeamDetailDto,
  TeamMemberDto,
  UpdateMemberRoleDto,
  UpdateTeamDto,
} from './teams.dto.js';
import { TeamErrors } from './teams.errors.js';
import { TeamsService } from './teams.service.js';
import { TEAM_LOG_CONTENTS } from '../audit/audit-policy.js';
import { Authenticated } from '../../common/decorators/authenticated.decorator.js';
import { IdParam } from '../../common/http/parse-id.pipe.js';
import { DeleteNoContent } from '../../common/openapi/delete-no-content.decorator.js';

// Authentication is documented per route: @TeamRole includes it (a class-level one would list it twice).
@ApiTags('teams')
@Controller('teams')
export class TeamsController {
  constructor(private readonly teams: TeamsService) {}

  @Get()
  @Authenticated()
  @ApiOperation({
    summary: 'Teams I belong to, with my role',
    description: 'Newest membership first, paginated.',
  })
  @ApiOkResponse({ type: MyTeamsPageDto })
  listMine(
    @CurrentUserActor() actor: UserActor,
    @Query() query: PageQueryDto,
  ): Promise<MyTeamsPageDto> {
    return this.teams.listMine(actor, query);
  }

  @Post()
  @Authenticated()
  @ApiOperation({
    summary: 'Create a team with me as its owner',
    description: 'Logs CREATE_TEAM in the same transaction.',
  })
  @ApiCreatedResponse({ type: TeamDetailDto })
  create(@CurrentUserActor() actor: UserActor, @Body() dto: CreateTeamDto): Promise<TeamDetailDto> {
    return this.teams.create(actor, dto);
  }

  @Get(':teamId')
  @TeamRole('member', { apiKey: 'team:read' })
  @ApiOperation({
    summary: 'The team with its members (TeamDataWithMembers)',
    description:
      "The team's fields, subscription fields included (Stripe ids are identifiers, never secrets), `teamMembers` with each member's public user fields (id, name, email), and `plan`: the plan, its seats, limits and features as `GET /teams/{teamId}/plan` shows them, without `usage`.",
  })
  @ApiOkJson(TeamDetailDto)
  get(@CurrentActor() actor: Actor, @IdParam('teamId') teamId: number): Promise<TeamDetailDto> {
    return this.teams.get(actor, teamId);
  }

  @Patch(':teamId')
  @TeamRole('owner')
  @ApiOperation({
    summary: 'Rename the team',
    description:
      'Only `name` is writable; billing and Stripe fields are maintained from Stripe and any other field is a 400. Logs UPDATE_TEAM (by the caller) in the same transaction when the name changes; the current name again changes and logs nothing.',
  })
  @ApiOkJson(TeamDetailDto)
  // The team.updated webhook event counts against the team's event limit (WebhooksService.emit).
  @ApiErrors(CommonErrors.rateLimited)
  update(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @Body() dto: UpdateTeamDto,
  ): Promise<TeamDetailDto> {
    return this.teams.update(actor, teamId, dto);
  }

  @Patch(':teamId/members/:memberId')
  @TeamRole('owner', { apiKey: 'members:write' })
  @ApiOperation({
    summary: "Change a member's role",
    description:
      'A team always keeps at least one owner: demoting the last owner is a 409 `team.last_owner`, also under concurrent changes (they are serialized on the team row). A team API key (`members:write`) may only set `member`: a key never grants the `owner` role (403 `api_key.role_forbidden`, nothing changed). Logs UPDATE_TEAM_MEMBER (by the caller; for a team API key, its creator) in the same transaction when the role changes; a refused change or the role the member already has logs nothing.',
  })
  @ApiIdParam('memberId', 'Membership id (`teamMembers[].id`)')
  @ApiOkResponse({ type: TeamMemberDto })
  @ApiErrors(TeamErrors.memberNotFound, TeamErrors.lastOwner, TeamErrors.apiKeyRoleForbidden)
  updateMemberRole(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @IdParam('memberId') memberId: number,
    @Body() dto: UpdateMemberRoleDto,
  ): Promise<TeamMemberDto> {
    return this.teams.updateMemberRole(actor, teamId, memberId, dto);
  }

  @DeleteNoContent(':teamId/members/:memberId', 'Removed')
  @TeamRole('member', { apiKey: 'members:write' })
  @ApiOperation({
    summary: 'Remove a member, or leave the team',
    description:
      'Owners may remove any member; any member may remove their own membership (leave); a team API key with `members:write` may remove any member. The last owner can never be removed (409 `team.last_owner`). Logs REMOVE_TEAM_MEMBER (by the caller; for a key, its creator) in the same transaction.',
  })
  @ApiIdParam('memberId', 'Membership id (`teamMembers[].id`)')
  // A member removing someone else gets the service's 403.
  @ApiErrors(TeamErrors.memberNotFound, TeamErrors.lastOwner, TeamErrors.forbidden)
  removeMember(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @IdParam('memberId') memberId: number,
  ): Promise<void> {
    return this.teams.removeMember(actor, teamId, memberId);
  }

  @Get(':teamId/activity')
  @TeamRole('owner', { apiKey: 'activity:read' })
  @ApiOperation({
    summary: "The team's activity log, newest first",
    description: `Filters: \`action\`, \`userId\`, \`from\` (inclusive) and \`to\` (exclusive), ISO-8601 instants; \`to\` must be later than \`from\` (else 400). Paginated; the cursor is exact to the microsecond. ${TEAM_LOG_CONTENTS}`,
  })
  @ApiOkJson(TeamActivityPageDto)
  listActivity(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @Query() query: TeamActivityQueryDto,
  ): Promise<TeamActivityPageDto> {
    return this.teams.listActivity(actor, teamId, query);
  }
}
