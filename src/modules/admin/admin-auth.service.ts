import { Injectable, Logger } from '@nestjs/common';
import type { Request } from 'express';
import { isStaffRole, type StaffRole } from '../../common/auth/staff.js';
import { PasswordHasher, PASSWORD_MAX_LENGTH } from '../../common/crypto/password-hasher.js';
import { clientIp } from '../../common/http/client-ip.js';
import { RateLimitedError } from '../../common/rate-limit/rate-limit.errors.js';
import { LoginRateLimiter } from '../../common/rate-limit/rate-limiter.service.js';
import { normalizeEmail } from '../../common/email.js';
import type { User } from '../../database/schema.js';
import { MfaService } from '../auth/mfa.service.js';
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

/** The login form's two-factor code field (multipart/urlencoded fields parsed by formidable). */
export const ADMIN_MFA_CODE_FIELD = 'code';

function formField(req: Request, name: string): unknown {
  const fields = (req as Request & { fields?: Record<string, unknown> }).fields;
  return fields?.[name];
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
    req: Request,
  ): Promise<AdminSessionUser | null> {
    const ip = clientIp(req);
    const normalized = typeof email === 'string' ? normalizeEmail(email).slice(0, 320) : '';
    let user: User | undefined;
    try {
      user = await this.limiter.check({ ip, email: normalized || null }, () =>
        this.userWithPassword(normalized, password),
      );
    } catch (error) {
      if (error instanceof RateLimitedError) {
        req.res?.setHeader('Retry-After', String(error.retryAfterSeconds));
        throw new AdminLoginThrottledError(error.retryAfterSeconds);
      }
      throw error;
    }
    if (!user || !isStaffRole(user.role)) return null;
    if (user.mfaEnabledAt !== null) await this.checkSecondFactor(user.id, req);
    await regenerateSession(req);
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

  private async checkSecondFactor(userId: number, req: Request): Promise<void> {
    const code = formField(req, ADMIN_MFA_CODE_FIELD);
    if (typeof code !== 'string' || code.trim() === '') {
      throw new AdminLoginSecondFactorError('mfaCodeRequired');
    }
    let ok: boolean;
    try {
      ok = await this.mfa.verifySecondFactor(userId, code.slice(0, 64));
    } catch (error) {
      if (error instanceof RateLimitedError) {
        req.res?.setHeader('Retry-After', String(error.retryAfterSeconds));
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
 * Keeps the page the visitor asked for.
 */
function regenerateSession(req: Request): Promise<void> {
  const session = req.session as typeof req.session | undefined;
  if (!session) return Promise.resolve();
  const redirectTo = session.redirectTo;
  return new Promise((resolve, reject) => {
    session.regenerate((error: unknown) => {
      if (error) {
        reject(error instanceof Error ? error : new Error('Could not regenerate the session'));
        return;
      }
      if (redirectTo !== undefined) {
        req.session.redirectTo = redirectTo;
      }
      resolve();
    });
  });
}
