import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiOkJson } from '../../common/openapi/ok-response.decorator.js';
import { AllowUnverifiedEmail } from '../../common/decorators/allow-unverified-email.decorator.js';
import type { UserActor } from '../../common/auth/actor.js';
import { CurrentUserActor } from '../../common/decorators/current-actor.decorator.js';
import { MeDto } from './users.dto.js';
import { UsersService } from './users.service.js';
import { Authenticated } from '../../common/decorators/authenticated.decorator.js';

@ApiTags('users')
@Authenticated()
@Controller('users/me')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @AllowUnverifiedEmail()
  @ApiOperation({
    summary: 'The signed-in user and their team memberships',
    description:
      'Also with an unverified email under EMAIL_VERIFICATION=required (`emailVerified`, `pendingEmail` tell the client what to show).',
  })
  @ApiOkJson(MeDto)
  me(@CurrentUserActor() actor: UserActor): Promise<MeDto> {
    return this.users.getMe(actor);
  }
}
