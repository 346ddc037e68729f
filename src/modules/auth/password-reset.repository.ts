import { Injectable } from '@nestjs/common';
import { and, eq, gt, isNull } from 'drizzle-orm';
import { TransactionHost } from '../../database/transaction-host.js';
import { passwordResetTokens, users, type PasswordResetToken } from '../../database/schema.js';

@Injectable()
export class PasswordResetRepository {
  constructor(private readonly txHost: TransactionHost) {}

  async insert(userId: number, tokenHash: string, expiresAt: Date): Promise<void> {
    await this.txHost.db.insert(passwordResetTokens).values({ userId, tokenHash, expiresAt });
  }

  /**
   * An unused, unexpired token of an active user. Reads users.deleted_at in the same statement
   * (users is owned by the users module; a read only).
   */
  async findUsable(tokenHash: string, now: Date): Promise<PasswordResetToken | undefined> {
    const [row] = await this.txHost.db
      .select({ token: passwordResetTokens })
      .from(passwordResetTokens)
      .innerJoin(users, eq(users.id, passwordResetTokens.userId))
      .where(
        and(
          eq(passwordResetTokens.tokenHash, tokenHash),
          isNull(passwordResetTokens.usedAt),
          gt(passwordResetTokens.expiresAt, now),
          isNull(users.deletedAt),
        ),
      )
      .limit(1);
    return row?.token;
  }

  /** Marks the token used if it still was usable; undefined when another request won. */
  async consume(id: number, now: Date): Promise<PasswordResetToken | undefined> {
    const [row] = await this.txHost.db
      .update(passwordResetTokens)
      .set({ usedAt: now })
      .where(
        and(
          eq(passwordResetTokens.id, id),
          isNull(passwordResetTokens.usedAt),
          gt(passwordResetTokens.expiresAt, now),
        ),
      )
      .returning();
    return row;
  }

  /** After any password change or change of address, outstanding links must stop working. */
  async invalidateAllForUser(userId: number, now: Date): Promise<void> {
    await this.txHost.db
      .update(passwordResetTokens)
      .set({ usedAt: now })
      .where(and(eq(passwordResetTokens.userId, userId), isNull(passwordResetTokens.usedAt)));
  }
}
