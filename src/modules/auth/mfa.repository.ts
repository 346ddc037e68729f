import { Injectable } from '@nestjs/common';
import { and, eq, isNull, lt, or } from 'drizzle-orm';
import { TransactionHost } from '../../database/transaction-host.js';
import {
  mfaChallenges,
  mfaRecoveryCodes,
  userTotp,
  type MfaChallenge,
  type UserTotp,
} from '../../database/schema.js';

/** Queries on the auth module's MFA tables (user_totp, mfa_recovery_codes, mfa_challenges). */
@Injectable()
export class MfaRepository {
  constructor(private readonly txHost: TransactionHost) {}

  async findTotp(userId: number): Promise<UserTotp | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(userTotp)
      .where(eq(userTotp.userId, userId))
      .limit(1);
    return row;
  }

  /** A new (pending) secret for the user, replacing any earlier one and its replay state. */
  async savePendingTotp(userId: number, secretEncrypted: string, now: Date): Promise<void> {
    await this.txHost.db
      .insert(userTotp)
      .values({ userId, secretEncrypted, createdAt: now })
      .onConflictDoUpdate({
        target: userTotp.userId,
        set: { secretEncrypted, lastUsedStep: null, createdAt: now },
      });
  }

  /**
   * Records `step` as the last accepted one, only if it is later than the stored one: false
   * means the code's step was already used (a replay, or a concurrent request that won).
   */
  async acceptStep(userId: number, step: number): Promise<boolean> {
    const rows = await this.txHost.db
      .update(userTotp)
      .set({ lastUsedStep: step })
      .where(
        and(
          eq(userTotp.userId, userId),
          or(isNull(userTotp.lastUsedStep), lt(userTotp.lastUsedStep, step)),
        ),
      )
      .returning({ userId: userTotp.userId });
    return rows.length > 0;
  }

  /** Forgets everything MFA of the user: secret, recovery codes, open challenges. */
  async deleteAllForUser(userId: number): Promise<void> {
    await this.txHost.db.delete(mfaChallenges).where(eq(mfaChallenges.userId, userId));
    await this.txHost.db.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId));
    await this.txHost.db.delete(userTotp).where(eq(userTotp.userId, userId));
  }

  /** The user's recovery codes become exactly `codeHashes` (old ones, used or not, are gone). */
  async replaceRecoveryCodes(userId: number, codeHashes: string[], now: Date): Promise<void> {
    await this.txHost.db.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId));
    await this.txHost.db
      .insert(mfaRecoveryCodes)
      .values(codeHashes.map((codeHash) => ({ userId, codeHash, createdAt: now })));
  }

  /** Marks an unused recovery code of the user used; false when there is no such code. */
  async useRecoveryCode(userId: number, codeHash: string, now: Date): Promise<boolean> {
    const rows = await this.txHost.db
      .update(mfaRecoveryCodes)
      .set({ usedAt: now })
      .where(
        and(
          eq(mfaRecoveryCodes.userId, userId),
          eq(mfaRecoveryCodes.codeHash, codeHash),
          isNull(mfaRecoveryCodes.usedAt),
        ),
      )
      .returning({ id: mfaRecoveryCodes.id });
    return rows.length > 0;
  }

  /** Adds a challenge and drops the user's expired ones (so they cannot pile up). */
  async insertChallenge(userId: number, tokenHash: string, expiresAt: Date, now: Date) {
    await this.txHost.db
      .delete(mfaChallenges)
      .where(and(eq(mfaChallenges.userId, userId), lt(mfaChallenges.expiresAt, now)));
    await this.txHost.db
      .insert(mfaChallenges)
      .values({ userId, tokenHash, expiresAt, createdAt: now });
  }

  /** The challenge with this token hash, locked for the rest of the transaction. */
  async findChallengeForUpdate(tokenHash: string): Promise<MfaChallenge | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(mfaChallenges)
      .where(eq(mfaChallenges.tokenHash, tokenHash))
      .for('update')
      .limit(1);
    return row;
  }

  async findChallenge(tokenHash: string): Promise<MfaChallenge | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(mfaChallenges)
      .where(eq(mfaChallenges.tokenHash, tokenHash))
      .limit(1);
    return row;
  }

  async markChallengeUsed(id: number, now: Date): Promise<void> {
    await this.txHost.db.update(mfaChallenges).set({ usedAt: now }).where(eq(mfaChallenges.id, id));
  }
}
