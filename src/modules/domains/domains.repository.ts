import { Injectable } from '@nestjs/common';
import { and, asc, count, desc, eq, isNotNull, isNull, lt, type SQL } from 'drizzle-orm';
import { teamDomains } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';

export type TeamDomain = typeof teamDomains.$inferSelect;

/** The partial unique index: a domain is verified by at most one team (schema.ts). */
export const VERIFIED_DOMAIN_INDEX = 'team_domains_verified_domain_key';
/** A team claims a domain once. */
export const TEAM_DOMAIN_INDEX = 'team_domains_team_id_domain_key';

@Injectable()
export class DomainsRepository {
  constructor(private readonly txHost: TransactionHost) {}

  async insert(values: { teamId: number; domain: string; txtValue: string }): Promise<TeamDomain> {
    const [row] = await this.txHost.db.insert(teamDomains).values(values).returning();
    if (!row) throw new Error('team_domains insert returned no row');
    return row;
  }

  /** The team's domains, newest first, after `afterId` (a page's cursor) when given. */
  listForTeam(teamId: number, limit: number, afterId?: number): Promise<TeamDomain[]> {
    const conditions: SQL[] = [eq(teamDomains.teamId, teamId)];
    if (afterId !== undefined) conditions.push(lt(teamDomains.id, afterId));
    return this.txHost.db
      .select()
      .from(teamDomains)
      .where(and(...conditions))
      .orderBy(desc(teamDomains.id))
      .limit(limit);
  }

  async countForTeam(teamId: number): Promise<number> {
    const [row] = await this.txHost.db
      .select({ n: count() })
      .from(teamDomains)
      .where(eq(teamDomains.teamId, teamId));
    return row?.n ?? 0;
  }

  /** The team's verified domains (canonical form), alphabetically. */
  async verifiedForTeam(teamId: number): Promise<string[]> {
    const rows = await this.txHost.db
      .select({ domain: teamDomains.domain })
      .from(teamDomains)
      .where(and(eq(teamDomains.teamId, teamId), isNotNull(teamDomains.verifiedAt)))
      .orderBy(asc(teamDomains.domain));
    return rows.map((row) => row.domain);
  }

  /** The verified row of `domain` (at most one, by the partial unique index). */
  async findVerified(domain: string): Promise<TeamDomain | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(teamDomains)
      .where(and(eq(teamDomains.domain, domain), isNotNull(teamDomains.verifiedAt)));
    return row;
  }

  async findInTeam(teamId: number, id: number): Promise<TeamDomain | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(teamDomains)
      .where(and(eq(teamDomains.teamId, teamId), eq(teamDomains.id, id)));
    return row;
  }

  async findByTeamAndDomain(teamId: number, domain: string): Promise<TeamDomain | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(teamDomains)
      .where(and(eq(teamDomains.teamId, teamId), eq(teamDomains.domain, domain)));
    return row;
  }

  /**
   * Marks the team's domain verified at `now` if it is not yet; undefined when nothing changed
   * (already verified, or gone). Throws the unique violation of VERIFIED_DOMAIN_INDEX when
   * another team has verified the same domain (the index decides a race).
   */
  async markVerified(teamId: number, id: number, now: Date): Promise<TeamDomain | undefined> {
    const [row] = await this.txHost.db
      .update(teamDomains)
      .set({ verifiedAt: now })
      .where(
        and(eq(teamDomains.teamId, teamId), eq(teamDomains.id, id), isNull(teamDomains.verifiedAt)),
      )
      .returning();
    return row;
  }

  /** Deletes the team's domain; the deleted row, or undefined when there was none. */
  async delete(teamId: number, id: number): Promise<TeamDomain | undefined> {
    const [row] = await this.txHost.db
      .delete(teamDomains)
      .where(and(eq(teamDomains.teamId, teamId), eq(teamDomains.id, id)))
      .returning();
    return row;
  }
}
