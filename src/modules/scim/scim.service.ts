import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AppError } from '../../common/errors/app-error.js';
import { isUniqueViolation } from '../../common/errors/pg-errors.js';
import { PasswordHasher } from '../../common/crypto/password-hasher.js';
import { SCIM_ROOT_PATH } from '../../common/http/scim-path.js';
import { DEFAULT_LOCALE } from '../../common/i18n/locales.js';
import { AppConfig } from '../../config/app-config.js';
import { ActivityType, type ScimGroup, type TeamRole } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { AuditService } from '../audit/audit.service.js';
import { EmailVerificationService } from '../auth/email-verification.service.js';
import { SessionsService } from '../auth/sessions.service.js';
import { DomainsService } from '../domains/domains.service.js';
import { TeamsService } from '../teams/teams.service.js';
import { UsersService } from '../users/users.service.js';
import {
  applyGroupPatch,
  applyUserPatch,
  emailOfUser,
  readGroupBody,
  readPatchBody,
  readUserBody,
  type GroupState,
  type UserState,
} from './scim-patch.js';
import { groupConditions, userConditions } from './scim-query.js';
import {
  groupResource,
  listResponse,
  paging,
  project,
  projection,
  userResource,
  type ScimResource,
} from './scim-resources.js';
import { ScimTokensService, type ScimClient } from './scim-tokens.service.js';
import { ScimErrors } from './scim.errors.js';
import { ScimRepository, type ScimUserRow } from './scim.repository.js';

/** The query parameters of GET /Users and GET /Groups (RFC 7644 §3.4.2). */
export interface ScimListQuery {
  filter?: string;
  startIndex?: string;
  count?: string;
  attributes?: string;
  excludedAttributes?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** SCIM ids are UUIDs; anything else names no resource (a 404, never a database error). */
function isScimId(id: string): boolean {
  return UUID.test(id);
}

function userState(row: ScimUserRow): UserState {
  return {
    userName: row.userName,
    externalId: row.externalId,
    givenName: row.givenName,
    familyName: row.familyName,
    displayName: row.displayName,
    active: row.active,
  };
}

/** The account name of a new user: displayName, else given + family name (100 characters). */
function accountName(state: UserState): string | null {
  const name =
    state.displayName ?? [state.givenName, state.familyName].filter((p) => p !== null).join(' ');
  return name === '' ? null : name.slice(0, 100);
}

/**
 * The SCIM 2.0 service of a team's directory (API.md v1.2 "Directory sync"): Users and Groups
 * of the token's team, and nothing else (another team's ids are 404s, its users never listed).
 * Memberships change only through TeamsService (join, removeMembershipOf, setRoleOf), so plan
 * limits, seats and webhooks apply to SCIM as to any other path. Activity: SCIM_PROVISION_USER
 * when a membership is created (create, reactivate), SCIM_DEPROVISION_USER when it ends
 * (active=false, DELETE), UPDATE_TEAM_MEMBER when the owner group changes a role; each names
 * the user concerned (no signed-in actor: the team's directory acted), in the change's
 * transaction.
 */
@Injectable()
export class ScimService {
  constructor(
    private readonly config: AppConfig,
    private readonly txHost: TransactionHost,
    private readonly scim: ScimRepository,
    private readonly tokens: ScimTokensService,
    private readonly users: UsersService,
    private readonly teams: TeamsService,
    private readonly audit: AuditService,
    private readonly sessions: SessionsService,
    private readonly verification: EmailVerificationService,
    private readonly domains: DomainsService,
    private readonly hasher: PasswordHasher,
  ) {}

  /** The service's public base URL (`API_URL` + /scim/v2): `meta.location`, `$ref`. */
  baseUrl(): string {
    return `${this.config.apiUrl.replace(/\/+$/, '')}${SCIM_ROOT_PATH}`;
  }

  // Users.

  async listUsers(client: ScimClient, query: ScimListQuery): Promise<Record<string, unknown>> {
    const conditions = query.filter === undefined ? [] : userConditions(query.filter);
    return this.listPage(
      query,
      conditions.some((c) => c.attr === 'id' && !isScimId(c.value)),
      (offset, count) => this.scim.listUsers(client.teamId, conditions, offset, count),
      async (rows) => {
        const groups = await this.scim.groupsOfUsers(rows.map((r) => r.id));
        return rows.map((row) =>
          userResource(
            this.baseUrl(),
            row,
            groups.filter((g) => g.scimUserId === row.id),
          ),
        );
      },
    );
  }

  async getUser(
    client: ScimClient,
    id: string,
    query: Pick<ScimListQuery, 'attributes' | 'excludedAttributes'> = {},
  ): Promise<ScimResource> {
    return project(await this.userResourceOf(client.teamId, id), projection(query));
  }

  /**
   * POST /Users: links the account with that address, or creates it (email verified when the
   * team verified its domain, else a verification mail is queued; no usable password: the
   * user signs in through the team's SSO or sets one with a reset), then, when `active`,
   * joins it to the team as `member`. 409 `uniqueness` when this directory has the user.
   */
  async createUser(client: ScimClient, body: unknown): Promise<ScimResource> {
    const state = readUserBody(body);
    const email = emailOfUser(body as Record<string, unknown>, state.userName);
    // argon2 outside the transaction: it holds no lock while hashing.
    const passwordHash = (await this.users.findActiveByEmail(email))
      ? undefined
      : await this.hasher.hash(randomBytes(32).toString('base64url'));
    let id: string;
    try {
      id = await this.txHost.transaction(async () => {
        const now = new Date();
        await this.lockTeam(client.teamId);
        let user = await this.users.findActiveByEmail(email);
        const createdAccount = user === undefined;
        if (user !== undefined) {
          if (await this.scim.findUserOfAccount(client.teamId, user.id)) {
            throw ScimErrors.uniqueness(
              `The user "${state.userName}" is already provisioned in this directory`,
            );
          }
        } else {
          user = await this.users.insert({
            email,
            name: accountName(state),
            passwordHash:
              passwordHash ?? (await this.hasher.hash(randomBytes(32).toString('base64url'))),
            locale: DEFAULT_LOCALE,
          });
          if (await this.domains.isVerifiedBy(client.teamId, email)) {
            user = (await this.users.markEmailVerified(user.id, email, now)) ?? user;
          } else {
            await this.verification.issue(user, email, 'sign-up', now);
          }
        }
        await this.assertUserNameFree(client.teamId, state.userName);
        const row = await this.scim.insertUser({
          ...state,
          teamId: client.teamId,
          userId: user.id,
          createdAccount,
          createdAt: now,
        });
        if (state.active) await this.activate(client, row.id, user.id);
        return row.id;
      });
    } catch (error) {
      if (
        isUniqueViolation(error, 'users_email_unique') ||
        isUniqueViolation(error, 'scim_users_team_id_user_id_key')
      ) {
        throw ScimErrors.uniqueness(
          `The user "${state.userName}" is already provisioned in this directory`,
        );
      }
      throw error;
    }
    return this.userResourceOf(client.teamId, id);
  }

  /** PUT /Users/:id: the body replaces the attributes kept (`active` absent: unchanged). */
  async replaceUser(client: ScimClient, id: string, body: unknown): Promise<ScimResource> {
    await this.changeUser(client, id, (current) => readUserBody(body, current));
    return this.userResourceOf(client.teamId, id);
  }

  /** PATCH /Users/:id (RFC 7644 §3.5.2, with Okta's and Entra ID's dialects: scim-patch.ts). */
  async patchUser(client: ScimClient, id: string, body: unknown): Promise<ScimResource> {
    const operations = readPatchBody(body);
    await this.changeUser(client, id, (current) => applyUserPatch(current, operations));
    return this.userResourceOf(client.teamId, id);
  }

  /** DELETE /Users/:id: deprovisions (when active) and forgets the directory's record. */
  async deleteUser(client: ScimClient, id: string): Promise<void> {
    await this.onRecord(client, id, this.scim.findUser.bind(this.scim), async (row) => {
      if (row.active) await this.deactivate(client, row);
      await this.scim.deleteUser(client.teamId, id);
    });
  }

  // Groups.

  async listGroups(client: ScimClient, query: ScimListQuery): Promise<Record<string, unknown>> {
    const conditions = query.filter === undefined ? [] : groupConditions(query.filter);
    return this.listPage(
      query,
      conditions.some((c) => (c.attr === 'id' || c.attr === 'member') && !isScimId(c.value)),
      (offset, count) => this.scim.listGroups(client.teamId, conditions, offset, count),
      async (rows) => {
        const members = await this.scim.groupMembers(rows.map((g) => g.id));
        return rows.map((group) =>
          groupResource(
            this.baseUrl(),
            group,
            members.filter((m) => m.groupId === group.id),
          ),
        );
      },
    );
  }

  /**
   * One ListResponse page: no rows when a filter names an id no resource can have, else the
   * page `load` reads, turned into resources and projected to the asked attributes.
   */
  private async listPage<R>(
    query: ScimListQuery,
    noMatch: boolean,
    load: (offset: number, count: number) => Promise<{ total: number; rows: R[] }>,
    toResources: (rows: R[]) => Promise<ScimResource[]>,
  ): Promise<Record<string, unknown>> {
    const { startIndex, count } = paging(query);
    if (noMatch) return listResponse([], 0, startIndex);
    const { total, rows } = await load(startIndex - 1, count);
    const resources = await toResources(rows);
    const p = projection(query);
    return listResponse(
      resources.map((r) => project(r, p)),
      total,
      startIndex,
    );
  }

  async getGroup(
    client: ScimClient,
    id: string,
    query: Pick<ScimListQuery, 'attributes' | 'excludedAttributes'> = {},
  ): Promise<ScimResource> {
    return project(await this.groupResourceOf(client.teamId, id), projection(query));
  }

  /** POST /Groups; the owner group's members become owners. 409 `uniqueness` on its name. */
  async createGroup(client: ScimClient, body: unknown): Promise<ScimResource> {
    const state = readGroupBody(body);
    const id = await this.txHost.transaction(async () => {
      await this.lockTeam(client.teamId);
      await this.assertGroupNameFree(client.teamId, state.displayName);
      await this.assertMembers(client.teamId, state.members);
      const group = await this.scim.insertGroup({
        teamId: client.teamId,
        displayName: state.displayName,
        externalId: state.externalId,
        createdAt: new Date(),
      });
      await this.scim.setGroupMembers(group.id, state.members);
      await this.applyOwnerGroup(client, { displayName: null, members: [] }, state);
      return group.id;
    });
    return this.groupResourceOf(client.teamId, id);
  }

  async replaceGroup(client: ScimClient, id: string, body: unknown): Promise<ScimResource> {
    const next = readGroupBody(body);
    await this.changeGroup(client, id, () => next);
    return this.groupResourceOf(client.teamId, id);
  }

  async patchGroup(client: ScimClient, id: string, body: unknown): Promise<ScimResource> {
    const operations = readPatchBody(body);
    await this.changeGroup(client, id, (current) => applyGroupPatch(current, operations));
    return this.groupResourceOf(client.teamId, id);
  }

  /** DELETE /Groups/:id: deleting the owner group makes its members members again. */
  async deleteGroup(client: ScimClient, id: string): Promise<void> {
    await this.onRecord(client, id, this.scim.findGroup.bind(this.scim), async (group) => {
      const before = await this.groupState(group);
      await this.applyOwnerGroup(client, before, { displayName: null, members: [] });
      await this.scim.deleteGroup(client.teamId, id);
    });
  }

  // Internals.

  /**
   * One change of a user, in one transaction with the team row locked (memberships and the
   * owner count cannot move under it): the new attributes, then the membership when `active`
   * flipped.
   */
  /**
   * Runs `work` on the directory's record `id` (read by `find`) in a transaction holding the
   * team's lock; 404 when there is no such record (or `id` cannot be one).
   */
  private async onRecord<R>(
    client: ScimClient,
    id: string,
    find: (teamId: number, id: string) => Promise<R | undefined>,
    work: (row: R) => Promise<void>,
  ): Promise<void> {
    if (!isScimId(id)) throw ScimErrors.notFound();
    await this.txHost.transaction(async () => {
      await this.lockTeam(client.teamId);
      const row = await find(client.teamId, id);
      if (!row) throw ScimErrors.notFound();
      await work(row);
    });
  }

  private async changeUser(
    client: ScimClient,
    id: string,
    change: (current: UserState) => UserState,
  ): Promise<void> {
    await this.onRecord(client, id, this.scim.findUser.bind(this.scim), async (row) => {
      const current = userState(row);
      const next = change(current);
      if (next.userName.toLowerCase() !== current.userName.toLowerCase()) {
        await this.assertUserNameFree(client.teamId, next.userName);
      }
      await this.scim.updateUser(client.teamId, id, next, new Date());
      if (current.active && !next.active) await this.deactivate(client, row);
      if (!current.active && next.active) await this.activate(client, id, row.userId);
    });
  }

  private async changeGroup(
    client: ScimClient,
    id: string,
    change: (current: GroupState) => GroupState,
  ): Promise<void> {
    await this.onRecord(client, id, this.scim.findGroup.bind(this.scim), async (group) => {
      const before = await this.groupState(group);
      const after = change(before);
      if (after.displayName.toLowerCase() !== before.displayName.toLowerCase()) {
        await this.assertGroupNameFree(client.teamId, after.displayName);
      }
      await this.assertMembers(client.teamId, after.members);
      await this.scim.updateGroup(
        client.teamId,
        id,
        { displayName: after.displayName, externalId: after.externalId },
        new Date(),
      );
      await this.scim.setGroupMembers(id, after.members);
      await this.applyOwnerGroup(client, before, after);
    });
  }

  /**
   * Joins the user to the team (as `member`; `owner` when the directory has them in the owner
   * group) and logs SCIM_PROVISION_USER. A plan limit is a 403 with the plan's detail.
   */
  private async activate(client: ScimClient, scimUserId: string, userId: number): Promise<void> {
    try {
      await this.teams.join(client.teamId, userId, 'member');
    } catch (error) {
      if (error instanceof AppError && error.code === 'plan.limit_reached') {
        throw ScimErrors.planLimit(`${ScimErrors.planLimit.message}: ${error.message}`);
      }
      throw error;
    }
    const ownerGroup = (await this.tokens.ownerGroup(client.teamId)).toLowerCase();
    const groups = await this.scim.groupsOfUser(scimUserId);
    if (groups.some((g) => g.displayName.toLowerCase() === ownerGroup)) {
      await this.setRole(client, userId, 'owner');
    }
    await this.audit.recordSystem({
      action: ActivityType.SCIM_PROVISION_USER,
      userId,
      teamId: client.teamId,
      ipAddress: client.ip,
    });
  }

  /**
   * Removes the membership (never the last owner: 409) and, for an account the team's
   * directory controls, ends every session of the user at once (their access tokens stop
   * working on the next request), SCIM_DEPROVISION_USER. The directory controls an account it
   * created, or one whose address is in a domain the team verified. An account it only linked
   * (someone's own account elsewhere) loses the membership but keeps its sessions: otherwise
   * any team could sign anyone out everywhere by provisioning and deprovisioning their address.
   */
  private async deactivate(client: ScimClient, row: ScimUserRow): Promise<void> {
    const userId = row.userId;
    await this.teams.removeMembershipOf(client.teamId, userId);
    if (row.createdAccount || (await this.domains.isVerifiedBy(client.teamId, row.email))) {
      await this.sessions.revokeAllForUser(userId, 'scim_deprovisioned');
    }
    await this.audit.recordSystem({
      action: ActivityType.SCIM_DEPROVISION_USER,
      userId,
      teamId: client.teamId,
      ipAddress: client.ip,
    });
  }

  private async setRole(client: ScimClient, userId: number, role: TeamRole): Promise<void> {
    if (await this.teams.setRoleOf(client.teamId, userId, role)) {
      await this.audit.recordSystem({
        action: ActivityType.UPDATE_TEAM_MEMBER,
        userId,
        teamId: client.teamId,
        ipAddress: client.ip,
      });
    }
  }

  /**
   * Roles after a group changed: users who entered the owner group (by joining it, or by the
   * group being renamed to it) become owners, those who left it members. Promotions first, so
   * handing ownership over in one request never trips the last-owner rule; a change that would
   * leave the team without an owner is a 409 and nothing of the request is kept.
   */
  private async applyOwnerGroup(
    client: ScimClient,
    before: { displayName: string | null; members: string[] },
    after: { displayName: string | null; members: string[] },
  ): Promise<void> {
    const ownerGroup = (await this.tokens.ownerGroup(client.teamId)).toLowerCase();
    const owners = (state: typeof before) =>
      new Set(state.displayName?.toLowerCase() === ownerGroup ? state.members : []);
    const was = owners(before);
    const now = owners(after);
    const promoted = [...now].filter((id) => !was.has(id));
    const demoted = [...was].filter((id) => !now.has(id));
    if (promoted.length === 0 && demoted.length === 0) return;
    const accounts = await this.scim.accountsOf(client.teamId, [...promoted, ...demoted]);
    const active = new Map(accounts.filter((a) => a.active).map((a) => [a.id, a.userId]));
    for (const id of promoted) {
      const userId = active.get(id);
      if (userId !== undefined) await this.setRole(client, userId, 'owner');
    }
    for (const id of demoted) {
      const userId = active.get(id);
      if (userId !== undefined) await this.setRole(client, userId, 'member');
    }
  }

  private async groupState(group: ScimGroup): Promise<GroupState> {
    const members = await this.scim.groupMembers([group.id]);
    return {
      displayName: group.displayName,
      externalId: group.externalId,
      members: members.map((m) => m.scimUserId),
    };
  }

  private async lockTeam(teamId: number): Promise<void> {
    // A token outlives nothing: its team is deleted with it (cascade). Still, never act on air.
    if (!(await this.teams.findTeamForUpdate(teamId))) throw ScimErrors.notFound();
  }

  private async assertUserNameFree(teamId: number, userName: string): Promise<void> {
    const { total } = await this.scim.listUsers(
      teamId,
      [{ attr: 'userName', value: userName }],
      0,
      0,
    );
    if (total > 0) {
      throw ScimErrors.uniqueness(`The userName "${userName}" is already in use in this directory`);
    }
  }

  private async assertGroupNameFree(teamId: number, displayName: string): Promise<void> {
    if (await this.scim.findGroupByName(teamId, displayName)) {
      throw ScimErrors.uniqueness(`A group named "${displayName}" already exists`);
    }
  }

  /** Group members must be users of this directory (another team's ids are unknown here). */
  private async assertMembers(teamId: number, members: string[]): Promise<void> {
    const wellFormed = members.filter(isScimId);
    const known = await this.scim.existingUserIds(teamId, wellFormed);
    const unknown = members.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw ScimErrors.invalidValue(
        `Unknown member ${unknown.slice(0, 5).join(', ')}: members must be users of this directory`,
      );
    }
  }

  private async userResourceOf(teamId: number, id: string): Promise<ScimResource> {
    if (!isScimId(id)) throw ScimErrors.notFound();
    const row = await this.scim.findUser(teamId, id);
    if (!row) throw ScimErrors.notFound();
    return userResource(this.baseUrl(), row, await this.scim.groupsOfUser(id));
  }

  private async groupResourceOf(teamId: number, id: string): Promise<ScimResource> {
    if (!isScimId(id)) throw ScimErrors.notFound();
    const group = await this.scim.findGroup(teamId, id);
    if (!group) throw ScimErrors.notFound();
    return groupResource(this.baseUrl(), group, await this.scim.groupMembers([id]));
  }
}
