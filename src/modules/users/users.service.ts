import { Injectable } from '@nestjs/common';
import { AccessService } from '../access/access.service.js';
import type { AdminActor, UserActor } from '../../common/auth/actor.js';
import { isUniqueViolation } from '../../common/errors/pg-errors.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { AppError } from '../../common/errors/app-error.js';
import type { NewUser, User } from '../../database/schema.js';
import { MeDto, MembershipDto, UserDto, type AdminUpdateUserDto } from './users.dto.js';
import { UserErrors } from './users.errors.js';
import { UsersRepository } from './users.repository.js';
import { UnauthorizedErrors } from '../../common/auth/unauthorized.js';

/** Raised when the principal's row vanished between the guard and the service (deleted meanwhile). */
const gone = (): AppError => UnauthorizedErrors.unauthorized('The session has ended');

/**
 * The users table's owner. `getMe` answers a route; the other methods are the account
 * primitives that other modules' services (auth: sign-up, credentials, verification,
 * deletion; invitations; the admin panel) call after they have decided who may do what. They
 * take no Actor: they act for no one by themselves. All of them join the caller's transaction.
 */
@Injectable()
export class UsersService {
  constructor(
    private readonly txHost: TransactionHost,
    private readonly users: UsersRepository,
    private readonly access: AccessService,
  ) {}

  async getMe(actor: UserActor): Promise<MeDto> {
    const [user, memberships] = await Promise.all([
      this.users.findActiveById(actor.id),
      this.users.memberships(actor.id),
    ]);
    if (!user) throw gone();
    return { ...UserDto.from(user), memberships: memberships.map((m) => MembershipDto.from(m)) };
  }

  /**
   * A back-office edit of name, email, locale and system role of an active account, in one
   * transaction; undefined when the account is deleted. A new address is unverified (see
   * UsersRepository.update); a taken one is 409 `user.email_taken` on the `email` field.
   */
  async updateByAdmin(
    actor: AdminActor,
    userId: number,
    dto: AdminUpdateUserDto,
  ): Promise<User | undefined> {
    this.access.requireAccountWrite(actor);
    try {
      return await this.txHost.transaction(async () => {
        const now = new Date();
        const { name, email, locale } = dto;
        const user = await this.users.update(userId, { name, email, locale }, now);
        if (!user) return undefined;
        if (dto.role === undefined || dto.role === user.role) return user;
        return this.users.setRole(userId, dto.role, now);
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw UserErrors.emailTaken(undefined, [{ field: 'email', message: 'is already in use' }]);
      }
      throw error;
    }
  }

  findActiveByEmail(email: string): Promise<User | undefined> {
    return this.users.findActiveByEmail(email);
  }

  findActiveById(id: number): Promise<User | undefined> {
    return this.users.findActiveById(id);
  }

  /** Throws the driver's unique violation (users_email_unique) when the email is taken. */
  insert(values: Pick<NewUser, 'email' | 'name' | 'passwordHash' | 'locale'>): Promise<User> {
    return this.users.insert(values);
  }

  emailInUseByOther(email: string, exceptId: number): Promise<boolean> {
    return this.users.emailInUseByOther(email, exceptId);
  }

  /** See UsersRepository.update: a new email is unverified and drops a pending change. */
  update(
    id: number,
    patch: Partial<Pick<User, 'name' | 'email' | 'passwordHash' | 'deletedAt' | 'locale'>>,
    now: Date,
  ): Promise<User | undefined> {
    return this.users.update(id, patch, now);
  }

  markEmailVerified(id: number, email: string, now: Date): Promise<User | undefined> {
    return this.users.markEmailVerified(id, email, now);
  }

  setPendingEmail(id: number, pendingEmail: string | null, now: Date): Promise<User | undefined> {
    return this.users.setPendingEmail(id, pendingEmail, now);
  }

  applyVerifiedEmail(id: number, email: string, now: Date): Promise<User | undefined> {
    return this.users.applyVerifiedEmail(id, email, now);
  }

  /** The active user's row, locked until the surrounding transaction ends (MFA changes). */
  lockActiveById(id: number): Promise<User | undefined> {
    return this.users.lockActiveById(id);
  }

  /**
   * Every session of the user ends: raises `sessionEpoch`, which back-office sessions compare
   * with the value they signed in with. Auth's SessionsService owns the rule.
   */
  raiseSessionEpoch(id: number): Promise<void> {
    return this.users.raiseSessionEpoch(id);
  }

  /** Two-factor sign-in switched on (`at`) or off (null); auth's MFA service owns the rule. */
  setMfaEnabledAt(id: number, at: Date | null, now: Date): Promise<User | undefined> {
    return this.users.setMfaEnabledAt(id, at, now);
  }
}
