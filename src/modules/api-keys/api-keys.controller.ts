import { Body, Get, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Actor } from '../../common/auth/actor.js';
import { CurrentActor } from '../../common/decorators/current-actor.decorator.js';
import { PageQueryDto } from '../../common/http/pagination.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { PlanErrors } from '../plans/plans.errors.js';
import { ApiIdParam } from '../../common/openapi/api-id-param.decorator.js';
import { ApiVerifiedEmailRequired } from '../../common/openapi/api-verified-email.decorator.js';
import { TeamRole } from '../access/team-role.decorator.js';
import { ApiKeyPageDto, CreateApiKeyDto, CreatedApiKeyDto } from './api-keys.dto.js';
import { ApiKeyErrors } from './api-keys.errors.js';
import { ApiKeysService } from './api-keys.service.js';
import { IdParam } from '../../common/http/parse-id.pipe.js';
import { DeleteNoContent } from '../../common/openapi/delete-no-content.decorator.js';
import { TeamController } from '../access/team-controller.decorator.js';

const USER_TOKENS_ONLY =
  'Owners only, with an access token: a team API key can never manage keys (401).';

@TeamController('api-keys', 'api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Post()
  @TeamRole('owner')
  @ApiOperation({
    summary: 'Create a team API key',
    description: `${USER_TOKENS_ONLY} The response carries the key (\`nsk_…\`) this once; only its SHA-256 is stored. The key acts for this team only, within its scopes, on the routes that say they accept keys; activity it writes names me (its creator) as \`userId\`. Logs CREATE_API_KEY in the same transaction.`,
  })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiVerifiedEmailRequired()
  // Active keys plus this one within the plan's max_api_keys.
  @ApiErrors(PlanErrors.limitReached)
  create(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @Body() dto: CreateApiKeyDto,
  ): Promise<CreatedApiKeyDto> {
    return this.apiKeys.create(actor, teamId, dto);
  }

  @Get()
  @TeamRole('owner')
  @ApiOperation({
    summary: "The team's API keys",
    description: `${USER_TOKENS_ONLY} Keys not revoked (expired ones included, see \`expiresAt\`), newest first, paginated; never the key itself. \`lastUsedAt\` is recorded at most once a minute.`,
  })
  @ApiOkResponse({ type: ApiKeyPageDto })
  list(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @Query() query: PageQueryDto,
  ): Promise<ApiKeyPageDto> {
    return this.apiKeys.list(actor, teamId, query);
  }

  @DeleteNoContent(':keyId', 'Revoked')
  @TeamRole('owner')
  @ApiOperation({
    summary: 'Revoke a team API key',
    description: `${USER_TOKENS_ONLY} The key stops working with the very next request. Revoking a revoked key again is a no-op. Logs REVOKE_API_KEY in the same transaction, only when the key was active.`,
  })
  @ApiIdParam('keyId', 'API key id')
  @ApiErrors(ApiKeyErrors.notFound)
  revoke(
    @CurrentActor() actor: Actor,
    @IdParam('teamId') teamId: number,
    @IdParam('keyId') keyId: number,
  ): Promise<void> {
    return this.apiKeys.revoke(actor, teamId, keyId);
  }
}
