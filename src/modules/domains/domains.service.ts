import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Actor } from '../../common/auth/actor.js';
import { isUniqueViolation } from '../../common/errors/pg-errors.js';
import { decodeIdCursor, encodeIdCursor, toPage, type Page } from '../../common/http/pagination.js';
import { ActivityType } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { AccessService } from '../access/access.service.js';
import { AuditService } from '../audit/audit.service.js';
import {
  challengeName,
  checkDomain,
  domainOfEmail,
  DOMAIN_PROBLEM_MESSAGES,
  MAX_DOMAIN_LENGTH,
  normalizeDomain,
} from './domain-name.js';
import type { AddDomainDto, DomainDto } from './domains.dto.js';
import { DomainErrors } from './domains.errors.js';
import {
  DomainsRepository,
  TEAM_DOMAIN_INDEX,
  VERIFIED_DOMAIN_INDEX,
  type TeamDomain,
} from './domains.repository.js';
import { TxtLookup, type TxtAnswer } from './txt-lookup.js';

/** Domains one team may claim at a time (verified or not): a bound on the DNS work it can ask for. */
export const MAX_DOMAINS_PER_TEAM = 50;

/** The start of every challenge value, so a TXT record says what it is for. */
export const TXT_VALUE_PREFIX = 'nest-saas-verification=';

export function toDomainDto(row: TeamDomain): DomainDto {
  return {
    id: row.id,
    domain: row.domain,
    verified: row.verifiedAt !== null,
    verifiedAt: row.verifiedAt,
    createdAt: row.createdAt,
    txtName: challengeName(row.domain),
    txtValue: row.txtValue,
  };
}

/**
 * Whether the TXT answer proves the claim: one record (its chunks joined) contains the
 * challenge value. Containment, not equality: DNS consoles that add quotes or spaces around a
 * pasted value still prove it, and the value's 256 random bits cannot appear by chance.
 */
export function txtProves(answer: TxtAnswer, txtValue: string): boolean {
  return answer.kind === 'records' && answer.records.some((record) => record.includes(txtValue));
}

/** Why a lookup did not prove the claim, for the 409's details. */
function notVerifiedDetail(answer: TxtAnswer, name: string): string {
  switch (answer.kind) {
    case 'none':
      return `No TXT record found at ${name}; DNS changes can take a while to appear, try again later`;
    case 'records':
      return `The TXT records at ${name} do not contain the expected value`;
    case 'failed':
      return `The DNS lookup of ${name} failed (${answer.code}); try again in a few minutes`;
  }
}

/**
 * Verified domains per team (API.md v1.2 "Verified domains"); owns `team_domains`. A team
 * claims a domain and proves it with a DNS TXT record; a domain is verified by at most one
 * team (the partial unique index decides races). Several teams may claim a domain that none
 * has verified. The read methods at the end are what SAML sign-in and SCIM ask (no actor:
 * primitives those services call after deciding who may act). SSO enforcement reads
 * `isVerifiedBy`, so removing a domain ends enforcement for its addresses at once.
 */
@Injectable()
export class DomainsService {
  constructor(
    private readonly txHost: TransactionHost,
    private readonly domains: DomainsRepository,
    private readonly access: AccessService,
    private readonly audit: AuditService,
    private readonly txt: TxtLookup,
  ) {}

  /**
   * Claims a domain for the team with a fresh challenge, and ADD_DOMAIN, in one transaction.
   * 400 `domain.invalid`; 409 `domain.taken` when another team verified it, `domain.already_added`
   * when this team has claimed it already (the existing claim and its challenge stay as they
   * are: GET lists them), `domain.limit_reached` past MAX_DOMAINS_PER_TEAM.
   */
  async add(actor: Actor, teamId: number, dto: AddDomainDto): Promise<DomainDto> {
    await this.access.requireTeam(actor, teamId, 'domains.add');
    const domain = claimableDomain(dto.domain);
    try {
      return await this.txHost.transaction(async () => {
        const verified = await this.domains.findVerified(domain);
        if (verified !== undefined && verified.teamId !== teamId) throw DomainErrors.taken();
        if ((await this.domains.findByTeamAndDomain(teamId, domain)) !== undefined) {
          throw DomainErrors.alreadyAdded();
        }
        // A soft bound (two concurrent adds may both pass it): it limits work, not access.
        if ((await this.domains.countForTeam(teamId)) >= MAX_DOMAINS_PER_TEAM) {
          throw DomainErrors.limitReached();
        }
        const row = await this.domains.insert({
          teamId,
          domain,
          txtValue: `${TXT_VALUE_PREFIX}${randomBytes(32).toString('base64url')}`,
        });
        await this.audit.recordFor(actor, { action: ActivityType.ADD_DOMAIN, teamId });
        return toDomainDto(row);
      });
    } catch (error) {
      if (isUniqueViolation(error, TEAM_DOMAIN_INDEX)) throw DomainErrors.alreadyAdded();
      throw error;
    }
  }

  /** The team's domains, verified or not, newest first, with their challenges. */
  async list(
    actor: Actor,
    teamId: number,
    query: { limit: number; cursor?: string },
  ): Promise<Page<DomainDto>> {
    await this.access.requireTeam(actor, teamId, 'domains.read');
    const afterId = decodeIdCursor(query.cursor);
    const rows = await this.domains.listForTeam(teamId, query.limit + 1, afterId);
    return toPage(rows, query.limit, toDomainDto, (row) => encodeIdCursor(row.id));
  }

  /**
   * Looks up the TXT records at `_nest-saas-challenge.<domain>` and, when one contains the
   * challenge value, marks the domain verified with VERIFY_DOMAIN in one transaction. A
   * verified domain answers as it is (no lookup, no row). 409 `domain.not_verified` (details
   * say why: no record, a wrong value, a failed lookup), 409 `domain.taken` when another team
   * verified it first (also when both raced: the unique index lets one win), 404 for a domain
   * not of this team. The lookup runs outside any transaction: no connection waits on DNS.
   */
  async verify(actor: Actor, teamId: number, domainId: number): Promise<DomainDto> {
    await this.access.requireTeam(actor, teamId, 'domains.verify');
    const row = await this.domains.findInTeam(teamId, domainId);
    if (row === undefined) throw DomainErrors.notFound();
    if (row.verifiedAt !== null) return toDomainDto(row);
    const holder = await this.domains.findVerified(row.domain);
    if (holder !== undefined && holder.teamId !== teamId) throw DomainErrors.taken();

    const name = challengeName(row.domain);
    const answer = await this.txt.lookup(name);
    if (!txtProves(answer, row.txtValue)) {
      throw DomainErrors.notVerified(undefined, [
        { field: 'txtName', message: notVerifiedDetail(answer, name) },
      ]);
    }
    try {
      return await this.txHost.transaction(async () => {
        const verified = await this.domains.markVerified(teamId, domainId, new Date());
        if (verified === undefined) {
          // Removed meanwhile (404), or verified by a concurrent request of this team.
          const current = await this.domains.findInTeam(teamId, domainId);
          if (current === undefined) throw DomainErrors.notFound();
          return toDomainDto(current);
        }
        await this.audit.recordFor(actor, { action: ActivityType.VERIFY_DOMAIN, teamId });
        return toDomainDto(verified);
      });
    } catch (error) {
      if (isUniqueViolation(error, VERIFIED_DOMAIN_INDEX)) throw DomainErrors.taken();
      throw error;
    }
  }

  /**
   * Removes the team's claim (verified or not) with REMOVE_DOMAIN in one transaction. Its
   * addresses are no longer the team's at once: SAML sign-in refuses them and SSO enforcement
   * stops applying to them. 404 for a domain not of this team.
   */
  async remove(actor: Actor, teamId: number, domainId: number): Promise<void> {
    await this.access.requireTeam(actor, teamId, 'domains.remove');
    await this.txHost.transaction(async () => {
      if ((await this.domains.delete(teamId, domainId)) === undefined) {
        throw DomainErrors.notFound();
      }
      await this.audit.recordFor(actor, { action: ActivityType.REMOVE_DOMAIN, teamId });
    });
  }

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

/** The canonical form of a domain a team may claim, or the 400 that says what is wrong. */
function claimableDomain(input: string): string {
  const checked = checkDomain(input);
  if (!checked.ok) {
    throw DomainErrors.invalid(undefined, [
      { field: 'domain', message: DOMAIN_PROBLEM_MESSAGES[checked.problem] },
    ]);
  }
  if (challengeName(checked.domain).length > MAX_DOMAIN_LENGTH) {
    throw DomainErrors.invalid(undefined, [
      {
        field: 'domain',
        message: `domain must be at most ${MAX_DOMAIN_LENGTH - challengeName('').length} characters, so that its challenge name fits in DNS`,
      },
    ]);
  }
  return checked.domain;
}
