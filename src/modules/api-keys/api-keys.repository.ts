import { Injectable } from '@nestjs/common';
import { and, desc, eq, isNull, lt, lte, or, type SQL } from 'drizzle-orm';
import { apiKeys, type ApiKey } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';

@Injectable()
export class ApiKeysRepository {
  constructor(private readonly txHost: TransactionHost) {}

  async insert(values: {
    teamId: number;
    name: string;
    prefix: string;
    hash: string;
    scopes: string[];
    createdBy: number | null;
    createdAt: Date;
    expiresAt: Date | null;
  }): Promise<ApiKey> {
    const [row] = await this.txHost.db.insert(apiKeys).values(values).returning();
    if (!row) throw new Error('api_keys insert returned no row');
    return row;
  }

  /** The team's keys that are not revoked (expired ones included), newest first. */
  listActiveForTeam(teamId: number, limit: number, afterId?: number): Promise<ApiKey[]> {
    const conditions: SQL[] = [eq(apiKeys.teamId, teamId), isNull(apiKeys.revokedAt)];
    if (afterId !== undefined) conditions.push(lt(apiKeys.id, afterId));
    return this.txHost.db
      .select()
      .from(apiKeys)
      .where(and(...conditions))
      .orderBy(desc(apiKeys.id))
      .limit(limit);
  }

  async findInTeam(teamId: number, id: number): Promise<ApiKey | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.teamId, teamId), eq(apiKeys.id, id)));
    return row;
  }

  async findByPrefix(prefix: string): Promise<ApiKey | undefined> {
    const [row] = await this.txHost.db.select().from(apiKeys).where(eq(apiKeys.prefix, prefix));
    return row;
  }

  /** Sets revoked_at on a key of the team that is not revoked yet; false when nothing changed. */
  async revoke(teamId: number, id: number, now: Date): Promise<boolean> {
    const rows = await this.txHost.db
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(and(eq(apiKeys.teamId, teamId), eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning({ id: apiKeys.id });
    return rows.length > 0;
  }

  /** Revokes the live keys `userId` created before `before` (any team); returns what changed. */
  async revokeCreatedBy(
    userId: number,
    before: Date,
    now: Date,
  ): Promise<Pick<ApiKey, 'id' | 'teamId'>[]> {
    return this.txHost.db
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(
        and(
          eq(apiKeys.createdBy, userId),
          lt(apiKeys.createdAt, before),
          isNull(apiKeys.revokedAt),
        ),
      )
      .returning({ id: apiKeys.id, teamId: apiKeys.teamId });
  }

  /**
   * Records a use, but only when the stored one is older than `staleBefore`: at most one write
   * per key per interval, however many requests and instances there are.
   */
  async touchLastUsed(id: number, now: Date, staleBefore: Date): Promise<void> {
    await this.txHost.db
      .update(apiKeys)
      .set({ lastUsedAt: now })
      .where(
        and(
          eq(apiKeys.id, id),
          or(isNull(apiKeys.lastUsedAt), lte(apiKeys.lastUsedAt, staleBefore)),
        ),
      );
  }
}
