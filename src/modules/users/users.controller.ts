import { Body, Controller, Get, Patch } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { ActivityType } from '../../database/schema.js';
import { Audit } from '../audit/audit.decorator.js';
import { MeDto, UpdateMeDto, UserDto } from './users.dto.js';
import { UserErrors } from './users.errors.js';
import { UsersService } from './users.service.js';
import { Authenticated } from '../../common/decorators/authenticated.decorator.js';

@ApiTags('users')
@Authenticated()
@Controller('users/me')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOperation({ summary: 'The signed-in user and their team memberships' })
  @ApiOkResponse({ type: MeDto })
  me(@CurrentUser() auth: AuthUser): Promise<MeDto> {
    return this.users.getMe(auth);
  }

  @Patch()
  @Audit(ActivityType.UPDATE_ACCOUNT)
  @ApiOperation({
    summary: 'Update my name and/or email',
    description:
      'At least one field. The email is trimmed and lower-cased. Records UPDATE_ACCOUNT (team: my first team).',
  })
  @ApiOkResponse({ type: UserDto })
  @ApiErrors(UserErrors.emptyUpdate, UserErrors.emailTaken)
  update(@CurrentUser() auth: AuthUser, @Body() dto: UpdateMeDto): Promise<UserDto> {
    return this.users.updateMe(auth, dto);
  }
}
