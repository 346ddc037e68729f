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
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Actor } from '../../common/auth/actor.js';
import { CurrentActor } from '../../common/decorators/current-actor.decorator.js';
import { ParseIdPipe } from '../../common/http/parse-id.pipe.js';
import { PageQueryDto } from '../../common/http/pagination.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { PlanErrors } from '../plans/plans.errors.js';
import { ApiIdParam } from '../../common/openapi/api-id-param.decorator.js';
import { ApiVerifiedEmailRequired } from '../../common/openapi/api-verified-email.decorator.js';
import { TeamRole } from '../access/team-role.decorator.js';
import { ApiKeyPageDto, CreateApiKeyDto, CreatedApiKeyDto } from './api-keys.dto.js';
import { ApiKeyErrors } from './api-keys.errors.js';
import { ApiKeysService } from './api-keys.service.js';

const USER_TOKENS_ONLY =
  'Owners only, with an access token: a team API key can never manage keys (401).';

@ApiTags('api-keys')
@Controller('teams/:teamId/api-keys')
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
    @Param('teamId', ParseIdPipe) teamId: number,
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
    @Param('teamId', ParseIdPipe) teamId: number,
    @Query() query: PageQueryDto,
  ): Promise<ApiKeyPageDto> {
    return this.apiKeys.list(actor, teamId, query);
  }

  @Delete(':keyId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @TeamRole('owner')
  @ApiOperation({
    summary: 'Revoke a team API key',
    description: `${USER_TOKENS_ONLY} The key stops working with the very next request. Revoking a revoked key again is a no-op. Logs REVOKE_API_KEY in the same transaction, only when the key was active.`,
  })
  @ApiIdParam('keyId', 'API key id')
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiErrors(ApiKeyErrors.notFound)
  revoke(
    @CurrentActor() actor: Actor,
    @Param('teamId', ParseIdPipe) teamId: number,
    @Param('keyId', ParseIdPipe) keyId: number,
  ): Promise<void> {
    return this.apiKeys.revoke(actor, teamId, keyId);
  }
}
