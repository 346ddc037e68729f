import { Body, Get, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Actor } from '../../common/auth/actor.js';
import { CurrentActor } from '../../common/decorators/current-actor.decorator.js';
import { PageQueryDto } from '../../common/http/pagination.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { ApiIdParam } from '../../common/openapi/api-id-param.decorator.js';
import { ApiVerifiedEmailRequired } from '../../common/openapi/api-verified-email.decorator.js';
import { TeamRole } from '../access/team-role.decorator.js';
import {
  CreatedScimTokenDto,
  CreateScimTokenDto,
  ScimSettingsDto,
  ScimTokenPageDto,
  UpdateScimSettingsDto,
} from './scim-tokens.dto.js';
import { ScimTokensService } from './scim-tokens.service.js';
import { ScimTokenErrors } from './scim.errors.js';
import { IdParam } from '../../common/http/parse-id.pipe.js';
import { DeleteNoContent } from '../../common/openapi/delete-no-content.decorator.js';
import { TeamController } from '../access/team-controller.decorator.js';

const OWNERS_ONLY =
  'Owners only, with an access token (a team API key never manages directory sync: 401).';

@TeamController('scim', 'scim')
export class ScimTokensController {
  constructor(private readonly tokens: ScimTokensService) {}

  @Post('tokens')
  @TeamRole('owner')
  @ApiOperation({
    summary: 'Create a SCIM token',
    description: `${OWNERS_ONLY} The response carries the token (\`scim_…\`) this once; only its SHA-256 is stored. An identity provider (Okta, Microsoft Entra ID) sends it as \`Authorization: Bearer scim_…\` to the SCIM service at \`/scim/v2\` (see docs/scim.md), which then provisions this team's members. Logs CREATE_SCIM_TOKEN in the same transaction.`,
  })
  @ApiCreatedResponse({ type: CreatedScimTokenDto })
  @ApiVerifiedEmailRequired()
  create(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @Body() dto: CreateScimTokenDto,
  ): Promise<CreatedScimTokenDto> {
    return this.tokens.create(actor, teamId, dto);
  }

  @Get('tokens')
  @TeamRole('owner')
  @ApiOperation({
    summary: "The team's SCIM tokens",
    description: `${OWNERS_ONLY} Tokens not revoked, newest first, paginated; never the token itself. \`lastUsedAt\` is recorded at most once a minute.`,
  })
  @ApiOkResponse({ type: ScimTokenPageDto })
  list(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @Query() query: PageQueryDto,
  ): Promise<ScimTokenPageDto> {
    return this.tokens.list(actor, teamId, query);
  }

  @DeleteNoContent('tokens/:tokenId', 'Revoked')
  @TeamRole('owner')
  @ApiOperation({
    summary: 'Revoke a SCIM token',
    description: `${OWNERS_ONLY} The token stops working with the very next SCIM request (401). Revoking a revoked token again is a no-op. Logs REVOKE_SCIM_TOKEN in the same transaction, only when the token was active. Users it provisioned stay.`,
  })
  @ApiIdParam('tokenId', 'SCIM token id')
  @ApiErrors(ScimTokenErrors.notFound)
  revoke(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @IdParam('tokenId') tokenId: number,
  ): Promise<void> {
    return this.tokens.revoke(actor, teamId, tokenId);
  }

  @Get('settings')
  @TeamRole('owner')
  @ApiOperation({
    summary: "The team's directory sync settings",
    description: `${OWNERS_ONLY} The SCIM base URL to give the identity provider and the name of the owner group.`,
  })
  @ApiOkResponse({ type: ScimSettingsDto })
  settings(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
  ): Promise<ScimSettingsDto> {
    return this.tokens.settings(actor, teamId);
  }

  @Patch('settings')
  @TeamRole('owner')
  @ApiOperation({
    summary: "Change the team's directory sync settings",
    description: `${OWNERS_ONLY} \`ownerGroup\`: the directory group whose members are owners (default \`Owners\`). Roles follow group membership changes the directory sends from then on; changing the name alone promotes or demotes no one.`,
  })
  @ApiOkResponse({ type: ScimSettingsDto })
  updateSettings(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @Body() dto: UpdateScimSettingsDto,
  ): Promise<ScimSettingsDto> {
    return this.tokens.updateSettings(actor, teamId, dto);
  }
}
