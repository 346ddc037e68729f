import { Injectable } from '@nestjs/common';
import { and, eq, gt, lt } from 'drizzle-orm';
import {
  samlAssertions,
  samlRequests,
  ssoConnections,
  type SsoConnection,
} from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';

type ConnectionValues = Pick<SsoConnection, 'idpEntityId' | 'idpSsoUrl' | 'idpCertificates'>;

/** The sso module's tables: connections, issued requests, accepted assertion ids. */
@Injectable()
export class SsoRepository {
  constructor(private readonly txHost: TransactionHost) {}

  async findByTeam(teamId: number): Promise<SsoConnection | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(ssoConnections)
      .where(eq(ssoConnections.teamId, teamId));
    return row;
  }

  async findById(id: number): Promise<SsoConnection | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(ssoConnections)
      .where(eq(ssoConnections.id, id));
    return row;
  }

  /** Undefined when the team has a connection already (unique team_id). */
  async insert(
    teamId: number,
    values: ConnectionValues,
    now: Date,
  ): Promise<SsoConnection | undefined> {
    const [row] = await this.txHost.db
      .insert(ssoConnections)
      .values({ teamId, ...values, createdAt: now, updatedAt: now })
      .onConflictDoNothing({ target: ssoConnections.teamId })
      .returning();
    return row;
  }

  async update(
    teamId: number,
    values: Partial<ConnectionValues & Pick<SsoConnection, 'enforced' | 'disabledAt'>>,
    now: Date,
  ): Promise<SsoConnection | undefined> {
    const [row] = await this.txHost.db
      .update(ssoConnections)
      .set({ ...values, updatedAt: now })
      .where(eq(ssoConnections.teamId, teamId))
      .returning();
    return row;
  }

  async delete(teamId: number): Promise<boolean> {
    const rows = await this.txHost.db
      .delete(ssoConnections)
      .where(eq(ssoConnections.teamId, teamId))
      .returning({ id: ssoConnections.id });
    return rows.length > 0;
  }

  async insertRequest(id: string, connectionId: number, now: Date): Promise<void> {
    await this.txHost.db.insert(samlRequests).values({ id, connectionId, createdAt: now });
  }

  async findRequest(
    id: string,
    connectionId: number,
    since: Date,
  ): Promise<{ createdAt: Date } | undefined> {
    const [row] = await this.txHost.db
      .select({ createdAt: samlRequests.createdAt })
      .from(samlRequests)
      .where(
        and(
          eq(samlRequests.id, id),
          eq(samlRequests.connectionId, connectionId),
          gt(samlRequests.createdAt, since),
        ),
      );
    return row;
  }

  /** Deletes the live request in one statement: true for the one caller that took it. */
  async consumeRequest(id: string, connectionId: number, since: Date): Promise<boolean> {
    const rows = await this.txHost.db
      .delete(samlRequests)
      .where(
        and(
          eq(samlRequests.id, id),
          eq(samlRequests.connectionId, connectionId),
          gt(samlRequests.createdAt, since),
        ),
      )
      .returning({ id: samlRequests.id });
    return rows.length > 0;
  }

  /** Remembers an accepted assertion id; false when it was accepted before (a replay). */
  async recordAssertion(
    connectionId: number,
    assertionId: string,
    expiresAt: Date,
  ): Promise<boolean> {
    const rows = await this.txHost.db
      .insert(samlAssertions)
      .values({ connectionId, assertionId, expiresAt })
      .onConflictDoNothing()
      .returning({ id: samlAssertions.assertionId });
    return rows.length > 0;
  }

  /** Requests nobody answered in time and assertion ids past their NotOnOrAfter. */
  async deleteExpired(requestsBefore: Date, now: Date): Promise<void> {
    await this.txHost.db.delete(samlRequests).where(lt(samlRequests.createdAt, requestsBefore));
    await this.txHost.db.delete(samlAssertions).where(lt(samlAssertions.expiresAt, now));
  }
}
