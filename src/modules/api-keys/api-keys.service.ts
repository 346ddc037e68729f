import { Injectable } from '@nestjs/common';
import {
  API_KEY_SCOPES,
  actorUserId,
  type Actor,
  type ApiKeyActor,
  type ApiKeyScope,
} from '../../common/auth/actor.js';
import { CommonErrors } from '../../common/errors/common.errors.js';
import { isUniqueViolation } from '../../common/errors/pg-errors.js';
import { decodeIdCursor, encodeIdCursor, toPage, type Page } from '../../common/http/pagination.js';
import { RateLimiterService } from '../../common/rate-limit/rate-limiter.service.js';
import { ActivityType, type ApiKey } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { PlansService } from '../plans/plans.service.js';
import { AuditService } from '../audit/audit.service.js';
import { AccessService } from '../access/access.service.js';
import { apiKeyMatches, generateApiKey, parseApiKey } from './api-key-token.js';
import type { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto } from './api-keys.dto.js';
import { ApiKeyErrors } from './api-keys.errors.js';
import { ApiKeysRepository } from './api-keys.repository.js';

/** `lastUsedAt` is written at most this often per key (API.md: it may lag up to a minute). */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** Stored scopes, filtered to the known ones (a scope removed from the code grants nothing). */
function scopesOf(row: ApiKey): ApiKeyScope[] {
  return row.scopes.filter((s): s is ApiKeyScope =>
    (API_KEY_SCOPES as readonly string[]).includes(s),
  );
}

/** The fields both the listed key and the just-created one show. */
function keyFields(row: ApiKey): Omit<CreatedApiKeyDto, 'key'> {
  const { id, name, prefix, createdAt, expiresAt } = row;
  return { id, name, prefix, scopes: scopesOf(row), createdAt, expiresAt };
}

export function toApiKeyDto(row: ApiKey): ApiKeyDto {
  return { ...keyFields(row), lastUsedAt: row.lastUsedAt, createdBy: row.createdBy };
}

/** Whether a stored key may authenticate at `now`: neither revoked nor expired. */
export function isApiKeyUsable(row: Pick<ApiKey, 'revokedAt' | 'expiresAt'>, now: Date): boolean {
  if (row.revokedAt !== null) return false;
  return row.expiresAt === null || row.expiresAt.getTime() > now.getTime();
}

/**
 * Team API keys: created, listed and revoked by the team's owners (the routes refuse keys),
 * revoked by back-office admins too; and `authenticate`, which the global auth guard calls for
 * `nsk_` bearers.
 */
@Injectable()
export class ApiKeysService {
  constructor(
    private readonly txHost: TransactionHost,
    private readonly keys: ApiKeysRepository,
    private readonly audit: AuditService,
    private readonly limiter: RateLimiterService,
    private readonly access: AccessService,
    private readonly plans: PlansService,
  ) {}

  /**
   * A new key and the CREATE_API_KEY row in one transaction; the key is returned this once.
   * Owners only, and only with a verified email (403 `email.unverified`): a key outlives the
   * sessions of whoever made it (API.md v1.2, pre-account hijacking).
   */
  async create(actor: Actor, teamId: number, dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    await this.access.requireTeam(actor, teamId, 'apiKeys.create');
    const now = new Date();
    const expiresAt = dto.expiresAt === undefined ? null : new Date(dto.expiresAt);
    if (expiresAt !== null && !(expiresAt.getTime() > now.getTime())) {
      throw CommonErrors.validation('Invalid request', [
        {
          field: 'expiresAt',
          message: 'expiresAt must be a valid date-time in the future',
        },
      ]);
    }
    // 48 random bits of public prefix: a collision is astronomically rare, but the unique
    // index decides, and a fresh key is simply drawn again.
    for (let attempt = 1; ; attempt++) {
      const generated = generateApiKey();
      try {
        const row = await this.txHost.transaction(async () => {
          // Active keys + this one within max_api_keys (402); locks the team row.
          await this.plans.assertRoom(teamId, 'apiKeys', now);
          const inserted = await this.keys.insert({
            teamId,
            name: dto.name,
            prefix: generated.prefix,
            hash: generated.hash,
            scopes: [...dto.scopes],
            createdBy: actorUserId(actor),
            createdAt: now,
            expiresAt,
          });
          await this.audit.recordFor(actor, { action: ActivityType.CREATE_API_KEY, teamId });
          return inserted;
        });
        return { ...keyFields(row), key: generated.key };
      } catch (error) {
        if (attempt < 3 && isUniqueViolation(error, 'api_keys_prefix_unique')) continue;
        throw error;
      }
    }
  }

  /** The team's keys that are not revoked (expired ones stay listed), newest first; never the key. */
  async list(
    actor: Actor,
    teamId: number,
    query: { limit: number; cursor?: string },
  ): Promise<Page<ApiKeyDto>> {
    await this.access.requireTeam(actor, teamId, 'apiKeys.read');
    const afterId = decodeIdCursor(query.cursor);
    const rows = await this.keys.listActiveForTeam(teamId, query.limit + 1, afterId);
    return toPage(rows, query.limit, toApiKeyDto, (row) => encodeIdCursor(row.id));
  }

  /**
   * Revokes a key of the team: it stops working with the very next request. REVOKE_API_KEY (by
   * the actor: an owner, or a back-office admin) in the same transaction, only when it changed;
   * revoking a revoked key again is a no-op. Another team's key is a 404.
   */
  async revoke(actor: Actor, teamId: number, keyId: number): Promise<void> {
    await this.access.requireTeam(actor, teamId, 'apiKeys.revoke');
    await this.txHost.transaction(async () => {
      if (!(await this.keys.revoke(teamId, keyId, new Date()))) {
        if (!(await this.keys.findInTeam(teamId, keyId))) throw ApiKeyErrors.notFound();
        return;
      }
      await this.audit.recordFor(actor, { action: ActivityType.REVOKE_API_KEY, teamId });
    });
  }

  /**
   * For a password reset (the auth module): revokes every live key `userId` created before
   * `before` (their address was not verified yet), in any team, each with REVOKE_API_KEY in the
   * user's name, inside the caller's transaction. Keys other owners made stay, even when they
   * act with this user's team.
   */
  async revokeCreatedBefore(userId: number, before: Date, ipAddress: string | null): Promise<void> {
    await this.txHost.transaction(async () => {
      for (const key of await this.keys.revokeCreatedBy(userId, before, new Date())) {
        await this.audit.recordSystem({
          action: ActivityType.REVOKE_API_KEY,
          userId,
          teamId: key.teamId,
          ipAddress,
        });
      }
    });
  }

  /**
   * The caller a presented `nsk_…` key stands for, or undefined when it is malformed, unknown,
   * revoked or expired (the guard answers all of them with the same 401). Counts the request
   * against the key's rate limit (throws the 429 `RateLimitedError`) and records `lastUsedAt`
   * at most once a minute.
   */
  async authenticate(token: string, ip: string | null): Promise<ApiKeyActor | undefined> {
    const parsed = parseApiKey(token);
    if (parsed === undefined) return undefined;
    const row = await this.keys.findByPrefix(parsed.prefix);
    // The prefix only finds the row; the secret is checked by comparing hashes in constant time.
    if (row === undefined || !apiKeyMatches(token, row.hash)) return undefined;
    const now = new Date();
    if (!isApiKeyUsable(row, now)) return undefined;
    await this.limiter.consumeApiKey(row.id);
    const staleBefore = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
    if (row.lastUsedAt === null || row.lastUsedAt.getTime() <= staleBefore.getTime()) {
      await this.keys.touchLastUsed(row.id, now, staleBefore);
    }
    return {
      kind: 'apiKey',
      keyId: row.id,
      teamId: row.teamId,
      scopes: scopesOf(row),
      createdBy: row.createdBy,
      ip,
    };
  }
}
