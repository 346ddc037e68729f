import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { userActor } from '../../common/auth/actor.js';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { Authenticated } from '../../common/decorators/authenticated.decorator.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { ParseUuidPipe } from '../../common/http/parse-uuid.pipe.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { AUDIT_TEAM_RULE } from '../audit/audit-policy.js';
import { AuthErrors } from './auth.errors.js';
import { SessionDto } from './sessions.dto.js';
import { SESSIONS_LIST_MAX, SessionsService } from './sessions.service.js';
import { DeleteNoContent } from '../../common/openapi/delete-no-content.decorator.js';

/** My signed-in devices (API.md v1.1, Sessions). */
@ApiTags('sessions')
@Authenticated()
@Controller('users/me/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get()
  @ApiOperation({
    summary: 'My active sessions',
    description: `Sessions that are neither revoked nor expired, most recently used first (at most ${SESSIONS_LIST_MAX}; DELETE /users/me/sessions ends all of them but this one). \`current\` marks the session of this request. \`lastUsedAt\` is accurate to a minute.`,
  })
  @ApiOkResponse({ type: [SessionDto] })
  list(@CurrentUser() auth: AuthUser): Promise<SessionDto[]> {
    return this.sessions.listMine(userActor(auth));
  }

  @DeleteNoContent(undefined, 'Every other session ended')
  @ApiOperation({
    summary: 'Sign out all my other devices',
    description: `Revokes every session of mine except the one making this request; their access and refresh tokens stop working at once, and my back-office sessions at /admin end too. Records REVOKE_SESSION once when at least one session ended. ${AUDIT_TEAM_RULE}`,
  })
  revokeOthers(@CurrentUser() auth: AuthUser): Promise<void> {
    return this.sessions.revokeMyOthers(userActor(auth));
  }

  @DeleteNoContent(':sessionId', 'Session revoked')
  @ApiParam({
    name: 'sessionId',
    description: 'A session id from GET /users/me/sessions',
    schema: { type: 'string', format: 'uuid' },
  })
  @ApiOperation({
    summary: 'Revoke one of my sessions',
    description: `Its access and refresh tokens stop working at once (revoking the current session signs this client out, like POST /auth/sign-out). 404 \`session.not_found\` when the id is not a live session of mine (another user's, unknown, already ended); 400 when it is not a UUID. Records REVOKE_SESSION. ${AUDIT_TEAM_RULE}`,
  })
  @ApiErrors(AuthErrors.sessionNotFound)
  revoke(
    @CurrentUser() auth: AuthUser,
    @Param('sessionId', ParseUuidPipe) sessionId: string,
  ): Promise<void> {
    return this.sessions.revokeMine(userActor(auth), sessionId);
  }
}
