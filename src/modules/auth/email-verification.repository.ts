import { Injectable } from '@nestjs/common';
import { and, eq, gt, isNull, ne, type SQL } from 'drizzle-orm';
import { TransactionHost } from '../../database/transaction-host.js';
import { emailVerificationTokens, type EmailVerificationToken } from '../../database/schema.js';

@Injectable()
export class EmailVerificationRepository {
  constructor(private readonly txHost: TransactionHost) {}

  async insert(userId: number, email: string, tokenHash: string, expiresAt: Date): Promise<void> {
    await this.txHost.db
      .insert(emailVerificationTokens)
      .values({ userId, email, tokenHash, expiresAt });
  }

  /**
   * Marks the token used if it is unused and unexpired, in one statement: of two concurrent
   * uses only one gets the row. Undefined for unknown, used or expired tokens.
   */
  async consume(tokenHash: string, now: Date): Promise<EmailVerificationToken | undefined> {
    const [row] = await this.txHost.db
      .update(emailVerificationTokens)
      .set({ usedAt: now })
      .where(
        and(
          eq(emailVerificationTokens.tokenHash, tokenHash),
          isNull(emailVerificationTokens.usedAt),
          gt(emailVerificationTokens.expiresAt, now),
        ),
      )
      .returning();
    return row;
  }

  /** Retires the user's unused links for `email` (a new one replaces them). */
  async invalidateForEmail(userId: number, email: string, now: Date): Promise<void> {
    await this.retireUnused(userId, eq(emailVerificationTokens.email, email), now);
  }

  /** Retires the user's unused links for every address but `keep` (a superseded change). */
  async invalidateAllBut(userId: number, keep: string, now: Date): Promise<void> {
    await this.retireUnused(userId, ne(emailVerificationTokens.email, keep), now);
  }

  /** Marks the user's unused links whose address matches `which` used as of `now`. */
  private async retireUnused(userId: number, which: SQL, now: Date): Promise<void> {
    await this.txHost.db
      .update(emailVerificationTokens)
      .set({ usedAt: now })
      .where(
        and(
          eq(emailVerificationTokens.userId, userId),
          which,
          isNull(emailVerificationTokens.usedAt),
        ),
      );
  }
}
