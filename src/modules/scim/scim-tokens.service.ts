import { Injectable } from '@nestjs/common';
import { actorUserId, type Actor } from '../../common/auth/actor.js';
import { isUniqueViolation } from '../../common/errors/pg-errors.js';
import { decodeIdCursor, encodeIdCursor, toPage, type Page } from '../../common/http/pagination.js';
import { SCIM_ROOT_PATH } from '../../common/http/scim-path.js';
import { RateLimiterService } from '../../common/rate-limit/rate-limiter.service.js';
import { AppConfig } from '../../config/app-config.js';
import { ActivityType, type ScimToken } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { AccessService } from '../access/access.service.js';
import { AuditService } from '../audit/audit.service.js';
import { generateScimToken, parseScimToken, scimTokenMatches } from './scim-token.js';
import type {
  CreatedScimTokenDto,
  CreateScimTokenDto,
  ScimSettingsDto,
  ScimTokenDto,
  UpdateScimSettingsDto,
} from './scim-tokens.dto.js';
import { ScimTokenErrors } from './scim.errors.js';
import { ScimRepository } from './scim.repository.js';

/** The default name of the directory group whose members are owners (API.md v1.2). */
export const DEFAULT_OWNER_GROUP = 'Owners';

/** `lastUsedAt` is written at most this often per token. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** Who calls the SCIM service: a team's directory, through one of its tokens. */
export interface ScimClient {
  tokenId: number;
  teamId: number;
  ip: string | null;
}

export function toScimTokenDto(row: ScimToken): ScimTokenDto {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    createdBy: row.createdBy,
  };
}

/**
 * A team's SCIM tokens (created, listed and revoked by its owners, revoked by back-office
 * admins too), its directory settings, and `authenticate`, which the SCIM guard calls.
 */
@Injectable()
export class ScimTokensService {
  constructor(
    private readonly config: AppConfig,
    private readonly txHost: TransactionHost,
    private readonly scim: ScimRepository,
    private readonly audit: AuditService,
    private readonly access: AccessService,
    private readonly limiter: RateLimiterService,
  ) {}

  /** A new token and CREATE_SCIM_TOKEN in one transaction; the token is returned this once. */
  async create(
    actor: Actor,
    teamId: number,
    dto: CreateScimTokenDto,
  ): Promise<CreatedScimTokenDto> {
    await this.access.requireTeam(actor, teamId, 'scim.create');
    for (let attempt = 1; ; attempt++) {
      const generated = generateScimToken();
      try {
        const row = await this.txHost.transaction(async () => {
          const inserted = await this.scim.insertToken({
            teamId,
            name: dto.name,
            prefix: generated.prefix,
            hash: generated.hash,
            createdBy: actorUserId(actor),
            createdAt: new Date(),
          });
          await this.audit.recordFor(actor, { action: ActivityType.CREATE_SCIM_TOKEN, teamId });
          return inserted;
        });
        return {
          id: row.id,
          name: row.name,
          prefix: row.prefix,
          createdAt: row.createdAt,
          token: generated.token,
        };
      } catch (error) {
        if (attempt < 3 && isUniqueViolation(error, 'scim_tokens_prefix_unique')) continue;
        throw error;
      }
    }
  }

  /** The team's tokens that are not revoked, newest first; never the token. */
  async list(
    actor: Actor,
    teamId: number,
    query: { limit: number; cursor?: string },
  ): Promise<Page<ScimTokenDto>> {
    await this.access.requireTeam(actor, teamId, 'scim.read');
    const rows = await this.scim.listActiveTokens(
      teamId,
      query.limit + 1,
      decodeIdCursor(query.cursor),
    );
    return toPage(rows, query.limit, toScimTokenDto, (row) => encodeIdCursor(row.id));
  }

  /**
   * Revokes a token: the next SCIM request with it gets 401. REVOKE_SCIM_TOKEN (by an owner or a
   * back-office admin) in the same transaction, only when it changed. Another team's token: 404.
   */
  async revoke(actor: Actor, teamId: number, tokenId: number): Promise<void> {
    await this.access.requireTeam(actor, teamId, 'scim.revoke');
    await this.txHost.transaction(async () => {
      if (!(await this.scim.revokeToken(teamId, tokenId, new Date()))) {
        if (!(await this.scim.findTokenInTeam(teamId, tokenId))) throw ScimTokenErrors.notFound();
        return;
      }
      await this.audit.recordFor(actor, { action: ActivityType.REVOKE_SCIM_TOKEN, teamId });
    });
  }

  async settings(actor: Actor, teamId: number): Promise<ScimSettingsDto> {
    await this.access.requireTeam(actor, teamId, 'scim.read');
    return this.settingsOf(teamId);
  }

  /**
   * Sets the owner group's name. Roles change when group memberships change (the next PATCH
   * from the directory), not retroactively: a rename here never demotes anyone by itself.
   */
  async updateSettings(
    actor: Actor,
    teamId: number,
    dto: UpdateScimSettingsDto,
  ): Promise<ScimSettingsDto> {
    await this.access.requireTeam(actor, teamId, 'scim.update');
    await this.scim.setOwnerGroup(teamId, dto.ownerGroup, new Date());
    return this.settingsOf(teamId);
  }

  /** The name of the team's owner group. */
  async ownerGroup(teamId: number): Promise<string> {
    return (await this.scim.ownerGroup(teamId)) ?? DEFAULT_OWNER_GROUP;
  }

  /**
   * The directory a presented `scim_…` token stands for, or undefined when it is malformed,
   * unknown or revoked (one 401 for all). Counts the request against the token's rate limit
   * (429 `RateLimitedError`) and records `lastUsedAt` at most once a minute.
   */
  async authenticate(token: string, ip: string | null): Promise<ScimClient | undefined> {
    const parsed = parseScimToken(token);
    if (parsed === undefined) return undefined;
    const row = await this.scim.findTokenByPrefix(parsed.prefix);
    if (row === undefined || row.revokedAt !== null || !scimTokenMatches(token, row.hash)) {
      return undefined;
    }
    await this.limiter.consumeScimToken(row.id);
    const now = new Date();
    const staleBefore = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
    if (row.lastUsedAt === null || row.lastUsedAt.getTime() <= staleBefore.getTime()) {
      await this.scim.touchToken(row.id, now, staleBefore);
    }
    return { tokenId: row.id, teamId: row.teamId, ip };
  }

  private async settingsOf(teamId: number): Promise<ScimSettingsDto> {
    return {
      baseUrl: `${this.config.apiUrl.replace(/\/+$/, '')}${SCIM_ROOT_PATH}`,
      ownerGroup: await this.ownerGroup(teamId),
    };
  }
}
