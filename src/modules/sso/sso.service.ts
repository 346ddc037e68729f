import { Injectable } from '@nestjs/common';
import type { Actor, AdminActor } from '../../common/auth/actor.js';
import { AppConfig } from '../../config/app-config.js';
import { ActivityType, type SsoConnection } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { AccessService } from '../access/access.service.js';
import { AuditService } from '../audit/audit.service.js';
import { DomainsService } from '../domains/domains.service.js';
import { InvalidMetadataError, parseIdpMetadata, type IdpMetadata } from './idp-metadata.js';
import { spUrls } from './saml-sp.js';
import {
  SsoConnectionDto,
  type CreateSsoConnectionDto,
  type UpdateSsoConnectionDto,
} from './sso.dto.js';
import { SsoErrors } from './sso.errors.js';
import { SsoRepository } from './sso.repository.js';

function metadataOf(xml: string): IdpMetadata {
  try {
    return parseIdpMetadata(xml);
  } catch (error) {
    if (error instanceof InvalidMetadataError) {
      throw SsoErrors.invalidMetadata(undefined, [
        { field: 'idpMetadataXml', message: error.message },
      ]);
    }
    throw error;
  }
}

function connectionValues(metadata: IdpMetadata) {
  return {
    idpEntityId: metadata.entityId,
    idpSsoUrl: metadata.ssoUrl,
    idpCertificates: metadata.certificates,
  };
}

/**
 * A team's SAML connection (API.md v1.2 "Enterprise sign-in"): owners create, read, change and
 * delete it; a back-office admin may disable and enable it. Owns `sso_connections`.
 */
@Injectable()
export class SsoService {
  constructor(
    private readonly config: AppConfig,
    private readonly txHost: TransactionHost,
    private readonly repo: SsoRepository,
    private readonly access: AccessService,
    private readonly audit: AuditService,
    private readonly domains: DomainsService,
  ) {}

  async create(
    actor: Actor,
    teamId: number,
    dto: CreateSsoConnectionDto,
  ): Promise<SsoConnectionDto> {
    await this.access.requireTeam(actor, teamId, 'sso.create');
    const values = connectionValues(metadataOf(dto.idpMetadataXml));
    const created = await this.txHost.transaction(async () => {
      await this.access.requireTeam(actor, teamId, 'sso.create');
      const row = await this.repo.insert(teamId, values, new Date());
      if (row === undefined) throw SsoErrors.exists();
      await this.audit.recordFor(actor, { action: ActivityType.CREATE_SSO_CONNECTION, teamId });
      return row;
    });
    return this.dto(created);
  }

  async get(actor: Actor, teamId: number): Promise<SsoConnectionDto> {
    await this.access.requireTeam(actor, teamId, 'sso.read');
    const row = await this.repo.findByTeam(teamId);
    if (row === undefined) throw SsoErrors.notFound();
    return this.dto(row);
  }

  /** The team's connection for the back office (undefined: none). */
  async findForTeam(actor: AdminActor, teamId: number): Promise<SsoConnectionDto | undefined> {
    await this.access.requireTeam(actor, teamId, 'sso.read');
    const row = await this.repo.findByTeam(teamId);
    return row && this.dto(row);
  }

  /**
   * Replaces the IdP's metadata and/or sets `enforced`. Turning enforcement on needs a verified
   * domain now (409 `sso.domain_required`); later removing the domains ends it by construction,
   * since sign-in asks the verified domains each time.
   */
  async update(
    actor: Actor,
    teamId: number,
    dto: UpdateSsoConnectionDto,
  ): Promise<SsoConnectionDto> {
    await this.access.requireTeam(actor, teamId, 'sso.update');
    const metadata = dto.idpMetadataXml === undefined ? undefined : metadataOf(dto.idpMetadataXml);
    const updated = await this.txHost.transaction(async () => {
      await this.access.requireTeam(actor, teamId, 'sso.update');
      if (dto.enforced === true && (await this.domains.verifiedDomains(teamId)).length === 0) {
        throw SsoErrors.domainRequired();
      }
      const row = await this.repo.update(
        teamId,
        {
          ...(metadata === undefined ? {} : connectionValues(metadata)),
          ...(dto.enforced === undefined ? {} : { enforced: dto.enforced }),
        },
        new Date(),
      );
      if (row === undefined) throw SsoErrors.notFound();
      await this.audit.recordFor(actor, { action: ActivityType.UPDATE_SSO_CONNECTION, teamId });
      return row;
    });
    return this.dto(updated);
  }

  async remove(actor: Actor, teamId: number): Promise<void> {
    await this.access.requireTeam(actor, teamId, 'sso.update');
    await this.txHost.transaction(async () => {
      if (!(await this.repo.delete(teamId))) throw SsoErrors.notFound();
      await this.audit.recordFor(actor, { action: ActivityType.DELETE_SSO_CONNECTION, teamId });
    });
  }

  /**
   * The back office's switch: a disabled connection signs nobody in (GET /auth/sso answers
   * `sso.not_configured`, the ACS refuses) and enforces nothing; enabling restores it as it
   * was. Logged as UPDATE_SSO_CONNECTION in the admin's name; a no-op logs nothing.
   */
  async setDisabled(actor: AdminActor, teamId: number, disabled: boolean): Promise<void> {
    await this.txHost.transaction(async () => {
      await this.access.requireTeam(actor, teamId, 'sso.update');
      const row = await this.repo.findByTeam(teamId);
      if (row === undefined) throw SsoErrors.notFound();
      if ((row.disabledAt !== null) === disabled) return;
      await this.repo.update(teamId, { disabledAt: disabled ? new Date() : null }, new Date());
      await this.audit.recordFor(actor, { action: ActivityType.UPDATE_SSO_CONNECTION, teamId });
    });
  }

  private dto(row: SsoConnection): SsoConnectionDto {
    return SsoConnectionDto.from(row, spUrls(this.config.apiUrl, row.id));
  }
}
