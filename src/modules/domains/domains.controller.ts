import { Body, Get, HttpCode, HttpStatus, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Actor } from '../../common/auth/actor.js';
import { CurrentActor } from '../../common/decorators/current-actor.decorator.js';
import { PageQueryDto } from '../../common/http/pagination.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { ApiIdParam } from '../../common/openapi/api-id-param.decorator.js';
import { ApiVerifiedEmailRequired } from '../../common/openapi/api-verified-email.decorator.js';
import { TeamRole } from '../access/team-role.decorator.js';
import { AddDomainDto, DomainDto, DomainPageDto } from './domains.dto.js';
import { DomainErrors } from './domains.errors.js';
import { DomainsService } from './domains.service.js';
import { IdParam } from '../../common/http/parse-id.pipe.js';
import { DeleteNoContent } from '../../common/openapi/delete-no-content.decorator.js';
import { TeamController } from '../access/team-controller.decorator.js';

const OWNERS_ONLY = 'Owners only, with an access token (team API keys get 401).';
const DOMAIN_PARAM = ApiIdParam('domainId', 'Domain id');

/**
 * A team's domains (API.md v1.2 "Verified domains"): claimed, proved with a DNS TXT record,
 * removed. A verified domain is what SAML sign-in and SCIM provisioning trust for addresses.
 */
@TeamController('domains', 'domains')
export class DomainsController {
  constructor(private readonly domains: DomainsService) {}

  @Post()
  @TeamRole('owner')
  @ApiOperation({
    summary: 'Add a domain to verify',
    description: `${OWNERS_ONLY} Claims the domain for this team and returns its DNS challenge: create a TXT record named \`txtName\` (\`_nest-saas-challenge.<domain>\`) whose value is \`txtValue\`, then call verify. Other teams may claim a domain no team has verified (only one can verify it): 409 \`domain.taken\` once another team verified it. Adding a domain this team already claims is 409 \`domain.already_added\`, not a second challenge: the claim from GET stays valid, so a record already published keeps working. A team holds at most 50 domains. Logs ADD_DOMAIN in the same transaction.`,
  })
  @ApiCreatedResponse({ type: DomainDto })
  @ApiVerifiedEmailRequired()
  @ApiErrors(
    DomainErrors.invalid,
    DomainErrors.taken,
    DomainErrors.alreadyAdded,
    DomainErrors.limitReached,
  )
  add(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @Body() dto: AddDomainDto,
  ): Promise<DomainDto> {
    return this.domains.add(actor, teamId, dto);
  }

  @Get()
  @TeamRole('owner')
  @ApiOperation({
    summary: "The team's domains",
    description: `${OWNERS_ONLY} Verified and pending domains, newest first, paginated, each with its TXT challenge.`,
  })
  @ApiOkResponse({ type: DomainPageDto })
  list(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @Query() query: PageQueryDto,
  ): Promise<DomainPageDto> {
    return this.domains.list(actor, teamId, query);
  }

  @Post(':domainId/verify')
  @HttpCode(HttpStatus.OK)
  @TeamRole('owner')
  @ApiOperation({
    summary: 'Verify a domain by its DNS TXT record',
    description: `${OWNERS_ONLY} Looks up the TXT records at \`txtName\` now (the servers in DNS_SERVERS, else the system's resolvers; a record split into several strings counts as one, joined). One containing \`txtValue\`: the domain is verified for this team (200, VERIFY_DOMAIN logged in the same transaction). Otherwise 409 \`domain.not_verified\`, whose \`details[0].message\` says why: no TXT record at that name (yet: DNS changes and negative caching can take minutes to hours), records without the value, or a lookup that failed or timed out (a dead DNS server answers within seconds). Safe to call again at any time. A domain already verified answers 200 without a lookup. 409 \`domain.taken\` when another team verified the domain first; of two teams verifying at once, one wins and the other gets this.`,
  })
  @DOMAIN_PARAM
  @ApiOkResponse({ type: DomainDto })
  @ApiVerifiedEmailRequired()
  @ApiErrors(DomainErrors.notFound, DomainErrors.notVerified, DomainErrors.taken)
  verify(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @IdParam('domainId') domainId: number,
  ): Promise<DomainDto> {
    return this.domains.verify(actor, teamId, domainId);
  }

  @DeleteNoContent(':domainId', 'Removed')
  @TeamRole('owner')
  @ApiOperation({
    summary: 'Remove a domain',
    description: `${OWNERS_ONLY} Removes the claim, verified or not. From the next request its addresses are no longer the team's: SAML sign-in refuses them and SSO enforcement stops applying to them (enforcement covers the team's verified domains only). Logs REMOVE_DOMAIN in the same transaction.`,
  })
  @DOMAIN_PARAM
  @ApiErrors(DomainErrors.notFound)
  remove(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @IdParam('domainId') domainId: number,
  ): Promise<void> {
    return this.domains.remove(actor, teamId, domainId);
  }
}
