import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { AppError } from '../../common/errors/app-error.js';
import { MeDto, MembershipDto, UserDto } from './users.dto.js';
import { UsersRepository } from './users.repository.js';

/** Raised when the principal's row vanished between the guard and the service (deleted meanwhile). */
const gone = (): AppError => new AppError('auth.unauthorized', 401, 'The session has ended');

@Injectable()
export class UsersService {
  constructor(private readonly users: UsersRepository) {}

  async getMe(auth: AuthUser): Promise<MeDto> {
    const [user, memberships] = await Promise.all([
      this.users.findActiveById(auth.id),
      this.users.memberships(auth.id),
    ]);
    if (!user) throw gone();
    return { ...UserDto.from(user), memberships: memberships.map((m) => MembershipDto.from(m)) };
  }
}
