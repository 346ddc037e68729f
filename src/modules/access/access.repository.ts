import { Injectable } from '@nestjs/common';
import { and, eq, isNotNull, isNull } from 'drizzle-orm';
import type { DbClient } from '../../database/database.tokens.js';
import { PreparedQuery, type Placeheld } from '../../database/prepared-query.js';
import { ssoConnections, teamDomains, teamMembers, type TeamRole } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';

/** A user's membership as the access layer needs it. */
export interface TeamMembership {
  id: number;
  role: TeamRole;
}

function membershipQuery(
  db: DbClient,
  { teamId, userId }: Placeheld<{ teamId: number; userId: number }>,
) {
  return db
    .select({ id: teamMembers.id, role: teamMembers.role })
    .from(teamMembers)
    .where(and(eq(teamMembers.teamId, teamId), eq(teamMembers.userId, userId)));
}

/**
 * The access layer's one read: who belongs to which team, with what role. team_members is
 * owned (written) by the teams module; this read sits below it so that every module can ask
 * the access layer without importing teams.
 */
@Injectable()
export class AccessRepository {
  // Read on every team request: a named prepared statement (built once, planned once per
  // connection) outside transactions.
  private readonly membership: PreparedQuery<
    { teamId: number; userId: number },
    { id: number; role: string }[]
  >;

  constructor(private readonly txHost: TransactionHost) {
    this.membership = new PreparedQuery(txHost, 'access_find_membership', membershipQuery);
  }

  /** One lookup on the (team_id, user_id) unique index; null: not a member. */
  async findMembership(teamId: number, userId: number): Promise<TeamMembership | null> {
    const [row] = await this.membership.execute({ teamId, userId });
    // team_members.role is varchar with a check constraint limiting it to the TeamRole values.
    return row ? { id: row.id, role: row.role as TeamRole } : null;
  }

  /**
   * Whether `domain` is verified by a team whose SSO connection is enabled and enforced (API.md
   * v1.2 "SSO enforcement"). A cross-owner read (team_domains: domains module; sso_connections:
   * sso module), one round trip for one answer, so that auth's password routes can ask it
   * without importing the modules above them. Checked at sign-in time against the verified
   * domains: removing a domain ends its enforcement by construction.
   */
  async ssoEnforcedForDomain(domain: string): Promise<boolean> {
    const [row] = await this.txHost.db
      .select({ id: ssoConnections.id })
      .from(teamDomains)
      .innerJoin(ssoConnections, eq(ssoConnections.teamId, teamDomains.teamId))
      .where(
        and(
          eq(teamDomains.domain, domain),
          isNotNull(teamDomains.verifiedAt),
          eq(ssoConnections.enforced, true),
          isNull(ssoConnections.disabledAt),
        ),
      )
      .limit(1);
    return row !== undefined;
  }
}
