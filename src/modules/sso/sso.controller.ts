import { Body, Get, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Actor } from '../../common/auth/actor.js';
import { CurrentActor } from '../../common/decorators/current-actor.decorator.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { ApiVerifiedEmailRequired } from '../../common/openapi/api-verified-email.decorator.js';
import { TeamRole } from '../access/team-role.decorator.js';
import { CreateSsoConnectionDto, SsoConnectionDto, UpdateSsoConnectionDto } from './sso.dto.js';
import { SsoErrors } from './sso.errors.js';
import { SsoService } from './sso.service.js';
import { IdParam } from '../../common/http/parse-id.pipe.js';
import { DeleteNoContent } from '../../common/openapi/delete-no-content.decorator.js';
import { TeamController } from '../access/team-controller.decorator.js';

const OWNERS_ONLY = 'Owners only, with an access token (team API keys get 401).';

@TeamController('sso', 'sso')
export class SsoController {
  constructor(private readonly sso: SsoService) {}

  @Post()
  @TeamRole('owner')
  @ApiOperation({
    summary: "Connect the team's SAML identity provider",
    description: `${OWNERS_ONLY} Reads the IdP's metadata XML (entity id, SSO URL of the HTTP-Redirect binding, signing certificates) and answers the values to enter at the IdP: \`spEntityId\`, \`acsUrl\` (and \`spMetadataUrl\` for IdPs that import SP metadata). One connection per team (409 \`sso.exists\`). Users sign in through it once the team has verified their email's domain. Logs CREATE_SSO_CONNECTION.`,
  })
  @ApiCreatedResponse({ type: SsoConnectionDto })
  @ApiVerifiedEmailRequired()
  @ApiErrors(SsoErrors.invalidMetadata, SsoErrors.exists)
  create(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @Body() dto: CreateSsoConnectionDto,
  ): Promise<SsoConnectionDto> {
    return this.sso.create(actor, teamId, dto);
  }

  @Get()
  @TeamRole('owner')
  @ApiOperation({ summary: "The team's SAML connection", description: OWNERS_ONLY })
  @ApiOkResponse({ type: SsoConnectionDto })
  @ApiErrors(SsoErrors.notFound)
  get(@CurrentActor() actor: Actor, @IdParam('teamId') teamId: number): Promise<SsoConnectionDto> {
    return this.sso.get(actor, teamId);
  }

  @Patch()
  @TeamRole('owner')
  @ApiOperation({
    summary: "Change the team's SAML connection",
    description: `${OWNERS_ONLY} New IdP metadata (a certificate rollover, a new SSO URL) and/or \`enforced\`. While enforced (and not disabled by the back office), addresses in the team's verified domains cannot sign in with a password nor reset one (403 \`auth.sso_required\`); \`enforced: true\` needs a verified domain (409 \`sso.domain_required\`), and removing the last one ends the enforcement. Logs UPDATE_SSO_CONNECTION.`,
  })
  @ApiOkResponse({ type: SsoConnectionDto })
  @ApiErrors(SsoErrors.invalidMetadata, SsoErrors.notFound, SsoErrors.domainRequired)
  update(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @Body() dto: UpdateSsoConnectionDto,
  ): Promise<SsoConnectionDto> {
    return this.sso.update(actor, teamId, dto);
  }

  @DeleteNoContent(undefined, 'Removed')
  @TeamRole('owner')
  @ApiOperation({
    summary: "Remove the team's SAML connection",
    description: `${OWNERS_ONLY} Its sign-ins stop at once (pending ones fail); members keep their accounts and passwords. Logs DELETE_SSO_CONNECTION.`,
  })
  @ApiErrors(SsoErrors.notFound)
  remove(@CurrentActor() actor: Actor, @IdParam('teamId') teamId: number): Promise<void> {
    return this.sso.remove(actor, teamId);
  }
}
