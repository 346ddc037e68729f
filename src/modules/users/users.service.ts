import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { AppError } from '../../common/errors/app-error.js';
import { isUniqueViolation } from '../../common/errors/pg-errors.js';
import { MeDto, MembershipDto, UserDto, type UpdateMeDto } from './users.dto.js';
import { UserErrors } from './users.errors.js';
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

  async updateMe(auth: AuthUser, dto: UpdateMeDto): Promise<UserDto> {
    if (dto.name === undefined && dto.email === undefined) throw UserErrors.emptyUpdate();
    const patch: { name?: string | null; email?: string } = {};
    if (dto.name !== undefined) patch.name = dto.name;
    if (dto.email !== undefined) patch.email = dto.email;
    try {
      const user = await this.users.update(auth.id, patch, new Date());
      if (!user) throw gone();
      return UserDto.from(user);
    } catch (error) {
      if (isUniqueViolation(error, 'users_email_unique')) throw UserErrors.emailTaken();
      throw error;
    }
  }
}
