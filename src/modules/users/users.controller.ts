import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { AllowUnverifiedEmail } from '../../common/decorators/allow-unverified-email.decorator.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
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
  @ApiOkResponse({ type: MeDto })
  me(@CurrentUser() auth: AuthUser): Promise<MeDto> {
    return this.users.getMe(auth);
  }
}
