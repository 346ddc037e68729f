import { Injectable } from '@nestjs/common';
import { and, eq, gt, lt } from 'drizzle-orm';
import { TransactionHost } from '../../database/transaction-host.js';
import {
  oidcExchangeCodes,
  oidcIdentities,
  oidcLoginFlows,
  type OidcExchangeCode,
  type OidcIdentity,
  type OidcLoginFlow,
} from '../../database/schema.js';

/** The three OpenID Connect tables (owned by the auth module). */
@Injectable()
export class OidcRepository {
  constructor(private readonly txHost: TransactionHost) {}

  async insertFlow(flow: Omit<OidcLoginFlow, 'createdAt'>, now: Date): Promise<void> {
    await this.txHost.db.insert(oidcLoginFlows).values({ ...flow, createdAt: now });
  }

  /**
   * Deletes and returns the flow if it belongs to this provider and browser and has not
   * expired, in one statement: of two callbacks racing for one flow only one gets it.
   */
  async consumeFlow(
    id: string,
    provider: string,
    browserHash: string,
    now: Date,
  ): Promise<OidcLoginFlow | undefined> {
    const [row] = await this.txHost.db
      .delete(oidcLoginFlows)
      .where(
        and(
          eq(oidcLoginFlows.id, id),
          eq(oidcLoginFlows.provider, provider),
          eq(oidcLoginFlows.browserHash, browserHash),
          gt(oidcLoginFlows.expiresAt, now),
        ),
      )
      .returning();
    return row;
  }

  /** Flows and codes nobody will use any more (abandoned sign-ins). */
  async deleteExpired(now: Date): Promise<void> {
    await this.txHost.db.delete(oidcLoginFlows).where(lt(oidcLoginFlows.expiresAt, now));
    await this.txHost.db.delete(oidcExchangeCodes).where(lt(oidcExchangeCodes.expiresAt, now));
  }

  async findIdentity(issuer: string, subject: string): Promise<OidcIdentity | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(oidcIdentities)
      .where(and(eq(oidcIdentities.issuer, issuer), eq(oidcIdentities.subject, subject)))
      .limit(1);
    return row;
  }

  /** Throws the driver's unique violation (oidc_identities_issuer_subject_key) when linked already. */
  async insertIdentity(
    values: Pick<OidcIdentity, 'userId' | 'provider' | 'issuer' | 'subject' | 'email'>,
    now: Date,
  ): Promise<void> {
    await this.txHost.db
      .insert(oidcIdentities)
      .values({ ...values, createdAt: now, lastSignInAt: now });
  }

  async touchIdentity(id: number, email: string | null, now: Date): Promise<void> {
    await this.txHost.db
      .update(oidcIdentities)
      .set({ email, lastSignInAt: now })
      .where(eq(oidcIdentities.id, id));
  }

  async deleteIdentity(id: number): Promise<void> {
    await this.txHost.db.delete(oidcIdentities).where(eq(oidcIdentities.id, id));
  }

  /** Deletes the user's identities linked before `before`; returns what went. */
  async deleteIdentitiesCreatedBy(userId: number, before: Date): Promise<OidcIdentity[]> {
    return this.txHost.db
      .delete(oidcIdentities)
      .where(and(eq(oidcIdentities.userId, userId), lt(oidcIdentities.createdAt, before)))
      .returning();
  }

  async insertExchangeCode(
    values: Pick<OidcExchangeCode, 'codeHash' | 'userId' | 'signedUp' | 'expiresAt'>,
    now: Date,
  ): Promise<void> {
    await this.txHost.db.insert(oidcExchangeCodes).values({ ...values, createdAt: now });
  }

  /** Deletes and returns an unexpired code: a code is redeemed at most once. */
  async consumeExchangeCode(codeHash: string, now: Date): Promise<OidcExchangeCode | undefined> {
    const [row] = await this.txHost.db
      .delete(oidcExchangeCodes)
      .where(and(eq(oidcExchangeCodes.codeHash, codeHash), gt(oidcExchangeCodes.expiresAt, now)))
      .returning();
    return row;
  }
}
