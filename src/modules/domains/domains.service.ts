import { Injectable } from '@nestjs/common';
import { DomainsRepository } from './domains.repository.js';
import { domainOfEmail, normalizeDomain } from './domain-name.js';

/**
 * Verified domains per team (API.md v1.2 "Verified domains"); owns `team_domains`. A team
 * claims a domain and proves it with a DNS TXT record; a domain is verified by at most one
 * team. The read methods below are what SAML sign-in and SCIM ask (no actor: they are
 * primitives those services call after deciding who may act).
 */
@Injectable()
export class DomainsService {
  constructor(private readonly domains: DomainsRepository) {}

  /** The team's verified domains (lower-case A-labels), alphabetically. */
  verifiedDomains(teamId: number): Promise<string[]> {
    return this.domains.verifiedForTeam(teamId);
  }

  /**
   * The id of the team that verified `domain` (any spelling `normalizeDomain` accepts:
   * `Bücher.DE.` finds `xn--bcher-kva.de`), or undefined when no team did or it is not a domain.
   */
  async teamVerifying(domain: string): Promise<number | undefined> {
    const canonical = normalizeDomain(domain);
    if (canonical === undefined) return undefined;
    return (await this.domains.findVerified(canonical))?.teamId;
  }

  /**
   * Whether the domain of `email` (exactly: `a@sub.example.com` is not covered by a verified
   * `example.com`) is verified by team `teamId`. False for an address without a valid domain.
   */
  async isVerifiedBy(teamId: number, email: string): Promise<boolean> {
    const domain = domainOfEmail(email);
    if (domain === undefined) return false;
    return (await this.domains.findVerified(domain))?.teamId === teamId;
  }
}
