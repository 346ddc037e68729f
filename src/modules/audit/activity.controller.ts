import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { UserActor } from '../../common/auth/actor.js';
import { CurrentUserActor } from '../../common/decorators/current-actor.decorator.js';
import { PageQueryDto } from '../../common/http/pagination.js';
import { AUDIT_TEAM_RULE } from './audit-policy.js';
import { ActivityPageDto } from './audit.dto.js';
import { AuditService } from './audit.service.js';
import { Authenticated } from '../../common/decorators/authenticated.decorator.js';

@ApiTags('activity')
@Authenticated()
@Controller('activity')
export class ActivityController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({
    summary: 'My activity log, newest first',
    description: `Every entry recorded for the signed-in user, in any team (also teams left since). ${AUDIT_TEAM_RULE}`,
  })
  @ApiOkResponse({ type: ActivityPageDto })
  list(
    @CurrentUserActor() actor: UserActor,
    @Query() query: PageQueryDto,
  ): Promise<ActivityPageDto> {
    return this.audit.listMine(actor, query);
  }
}
