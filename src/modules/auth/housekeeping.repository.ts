import { Injectable } from '@nestjs/common';
import { inArray, lt } from 'drizzle-orm';
import { emailVerificationTokens, passwordResetTokens, sessions } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';

/** Deletes of rows that can no longer be used, in bounded batches (short locks, no long query). */
@Injectable()
export class AuthHousekeepingRepository {
  constructor(private readonly txHost: TransactionHost) {}

  /** Sessions past their refresh-token expiry (revoked or not): up to `limit` of them. */
  async deleteExpiredSessions(now: Date, limit: number): Promise<number> {
    const db = this.txHost.db;
    const due = db.select({ id: sessions.id }).from(sessions).where(lt(sessions.expiresAt, now));
    const rows = await db
      .delete(sessions)
      .where(inArray(sessions.id, due.limit(limit)))
      .returning({ id: sessions.id });
    return rows.length;
  }

  /** Expired password-reset links, used or not. */
  async deleteExpiredResetTokens(now: Date, limit: number): Promise<number> {
    const db = this.txHost.db;
    const t = passwordResetTokens;
    const due = db.select({ id: t.id }).from(t).where(lt(t.expiresAt, now)).limit(limit);
    const rows = await db.delete(t).where(inArray(t.id, due)).returning({ id: t.id });
    return rows.length;
  }

  /** Expired email-verification links, used or not. */
  async deleteExpiredVerificationTokens(now: Date, limit: number): Promise<number> {
    const db = this.txHost.db;
    const t = emailVerificationTokens;
    const due = db.select({ id: t.id }).from(t).where(lt(t.expiresAt, now)).limit(limit);
    const rows = await db.delete(t).where(inArray(t.id, due)).returning({ id: t.id });
    return rows.length;
  }
}
