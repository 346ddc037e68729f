import { Injectable, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isStaffRole, type StaffRole } from '../../common/auth/staff.js';
import { PasswordHasher, PASSWORD_MAX_LENGTH } from '../../common/crypto/password-hasher.js';
import { clientIp } from '../../common/http/client-ip.js';
import { RateLimitedError } from '../../common/rate-limit/rate-limit.errors.js';
import { LoginRateLimiter } from '../../common/rate-limit/rate-limiter.service.js';
import { normalizeEmail } from '../../common/email.js';
import type { User } from '../../database/schema.js';
import { MfaService } from '../auth/mfa.service.js';
import { formFields } from './admin-http.js';
import { UsersService } from '../users/users.service.js';

/** What the panel keeps in its session (`req.session.adminUser`, AdminJS's CurrentAdmin). */
export interface AdminSessionUser {
  /** users.id as a string (AdminJS's CurrentAdmin.id type). */
  id: string;
  email: string;
  title: string;
  ip: string | null;
  /** users.role at sign-in, refreshed on every request (AdminSessionStore). */
  role: StaffRole;
  /** Epoch ms of the sign-in: sessions end ADMIN_SESSION_TTL_SECONDS after it. */
  signedInAt: number;
  /**
   * users.session_epoch at sign-in: the session ends once the user's epoch moves on (a
   * password change or reset, "sign out everywhere", MFA switched on, "revoke sessions").
   */
  sessionEpoch: number;
}

/** What every panel request re-reads about its staff member (AdminSessionStore). */
export interface StaffStanding {
  role: StaffRole;
  sessionEpoch: number;
}

/** Thrown to the login page: AdminJS shows the message (a locale key) and answers 400. */
export class AdminLoginThrottledError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('tooManyRequests');
  }
}

/**
 * The admin has two-factor sign-in on and the form's `code` is missing or wrong (messages
 * are locale keys; the login page shows them). Only after the right password.
 */
export class AdminLoginSecondFactorError extends Error {
  constructor(reason: 'mfaCodeRequired' | 'mfaCodeInvalid') {
    super(reason);
  }
}

/** The login form's two-factor code field. */
export const ADMIN_MFA_CODE_FIELD = 'code';

/** What @adminjs/fastify hands `authenticate` besides the email and password. */
export interface AdminLoginContext {
  request: FastifyRequest;
  reply: FastifyReply;
}

/**
 * Who may enter /admin: active users (deletedAt null) with users.role = 'admin' or 'support'
 * (read-only staff) and the right password. Everyone else, team owners and deleted accounts
 * included, gets the same "invalid credentials" after the same argon2 work, throttled by the
 * API's sign-in limiter. Staff with two-factor sign-in on must also give a current TOTP code (or an unused
 * recovery code) in the form's `code` field, checked like POST /auth/sign-in/mfa (replays
 * refused, wrong codes limited per user).
 */
@Injectable()
export class AdminAuthService {
  private readonly logger = new Logger('AdminAuth');

  constructor(
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly limiter: LoginRateLimiter,
    private readonly mfa: MfaService,
  ) {}

  async authenticate(
    email: unknown,
    password: unknown,
    { request, reply }: AdminLoginContext,
  ): Promise<AdminSessionUser | null> {
    const ip = clientIp(request);
    const normalized = typeof email === 'string' ? normalizeEmail(email).slice(0, 320) : '';
    let user: User | undefined;
    try {
      user = await this.limiter.check({ ip, email: normalized || null }, () =>
        this.userWithPassword(normalized, password),
      );
    } catch (error) {
      if (error instanceof RateLimitedError) {
        void reply.header('Retry-After', String(error.retryAfterSeconds));
        throw new AdminLoginThrottledError(error.retryAfterSeconds);
      }
      throw error;
    }
    if (!user || !isStaffRole(user.role)) return null;
    if (user.mfaEnabledAt !== null) await this.checkSecondFactor(user.id, request, reply);
    await regenerateSession(request);
    // Back-office access is security-relevant and concerns no team: it goes to the log.
    this.logger.log({ userId: user.id, ip, role: user.role }, 'staff signed in to the back office');
    return {
      id: String(user.id),
      email: user.email,
      title: user.name ?? user.email,
      ip,
      role: user.role,
      signedInAt: Date.now(),
      sessionEpoch: user.sessionEpoch,
    };
  }

  /** The active user of `email` when `password` is theirs (a missing one costs the same argon2 work). */
  private async userWithPassword(email: string, password: unknown): Promise<User | undefined> {
    if (typeof password !== 'string' || password.length > PASSWORD_MAX_LENGTH || !email) {
      return undefined;
    }
    const user = await this.users.findActiveByEmail(email);
    if (!user) {
      await this.hasher.verifyDummy(password);
      return undefined;
    }
    return (await this.hasher.verify(user.passwordHash, password)) ? user : undefined;
  }

  private async checkSecondFactor(
    userId: number,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    const code = formFields(request.body)[ADMIN_MFA_CODE_FIELD];
    if (typeof code !== 'string' || code.trim() === '') {
      throw new AdminLoginSecondFactorError('mfaCodeRequired');
    }
    let ok: boolean;
    try {
      ok = await this.mfa.verifySecondFactor(userId, code.slice(0, 64));
    } catch (error) {
      if (error instanceof RateLimitedError) {
        void reply.header('Retry-After', String(error.retryAfterSeconds));
        throw new AdminLoginThrottledError(error.retryAfterSeconds);
      }
      throw error;
    }
    if (!ok) throw new AdminLoginSecondFactorError('mfaCodeInvalid');
  }

  /**
   * Checked on every panel request: the staff role and session epoch of an active user (null:
   * a member now, or deleted), so a demoted or deleted admin loses the panel at once, and an
   * admin whose sessions were ended loses this one.
   */
  async staffStandingOf(id: unknown): Promise<StaffStanding | null> {
    const userId = typeof id === 'string' || typeof id === 'number' ? Number(id) : NaN;
    if (!Number.isSafeInteger(userId) || userId < 1) return null;
    const user = await this.users.findActiveById(userId);
    if (!user || !isStaffRole(user.role)) return null;
    return { role: user.role, sessionEpoch: user.sessionEpoch };
  }
}

/**
 * A new session id at sign-in (no session fixation: the pre-login cookie, issued when an
 * anonymous visitor hit a protected page, is not the one that becomes authenticated).
 * Keeps the page the visitor asked for. @fastify/session's `regenerate` puts the new session
 * on the request, where AdminJS's login handler then stores the signed-in admin.
 */
function regenerateSession(request: FastifyRequest): Promise<void> {
  const session = request.session as FastifyRequest['session'] | null | undefined;
  if (!session || typeof session.regenerate !== 'function') return Promise.resolve();
  return session.regenerate(['redirectTo']);
}
