import { Injectable } from '@nestjs/common';
import { actorUserId, type Actor, type UserActor } from '../../common/auth/actor.js';
import { decodeIdCursor, encodeIdCursor, toPage, type Page } from '../../common/http/pagination.js';
import { AppConfig } from '../../config/app-config.js';
import { ActivityType, type Invitation, type Team, type TeamRole } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { PlansService } from '../plans/plans.service.js';
import { AuditService } from '../audit/audit.service.js';
import { renderMail, roleName } from '../mail/mail-templates.js';
import { unlinkable } from '../mail/mail-text.js';
import { MailService } from '../mail/mail.service.js';
import { TeamErrors } from '../teams/teams.errors.js';
import { AccessService } from '../access/access.service.js';
import { TeamsService, type Membership } from '../teams/teams.service.js';
import { WebhooksService } from '../webhooks/webhooks.service.js';
import { UserErrors } from '../users/users.errors.js';
import { UsersService } from '../users/users.service.js';
import { normalizeEmail } from '../../common/email.js';
import { toLocale } from '../../common/i18n/locales.js';
import { RateLimiterService } from '../../common/rate-limit/rate-limiter.service.js';
import {
  deriveInvitationKey,
  invitationExpiresAt,
  invitationExpiryCutoff,
  isInvitationExpired,
  readInvitationToken,
  signInvitationToken,
  verifyInvitationToken,
} from './invitation-token.js';
import type {
  AcceptedInvitationDto,
  CreateInvitationDto,
  InvitationDto,
} from './invitations.dto.js';
import { InvitationErrors } from './invitations.errors.js';
import { InvitationsRepository, type InvitationRow } from './invitations.repository.js';

export interface RedeemedInvitation {
  team: Team;
  membership: Membership;
  invitation: Invitation;
}

function toInvitationDto(row: InvitationRow): InvitationDto {
  return {
    id: row.id,
    teamId: row.teamId,
    teamName: row.teamName,
    email: row.email,
    role: row.role as TeamRole,
    invitedBy: row.invitedBy,
    invitedByName: row.inviterName,
    invitedAt: row.invitedAt,
    expiresAt: invitationExpiresAt(row.invitedAt),
    status: row.status,
  };
}

/** An invitation in webhook events: InvitationDto without the joined names. */
function invitationEventData(
  invitation: Invitation,
): Omit<InvitationDto, 'teamName' | 'invitedByName'> {
  return {
    id: invitation.id,
    teamId: invitation.teamId,
    email: invitation.email,
    role: invitation.role as TeamRole,
    invitedBy: invitation.invitedBy,
    invitedAt: invitation.invitedAt,
    expiresAt: invitationExpiresAt(invitation.invitedAt),
    status: invitation.status,
  };
}

function acceptedDto(team: Team, membership: Membership): AcceptedInvitationDto {
  return {
    teamId: team.id,
    teamName: team.name,
    memberId: membership.id,
    role: membership.role,
    joinedAt: membership.joinedAt,
  };
}

/** Throws the 4xx that explains why an invitation can no longer be answered. */
function assertAnswerable(invitation: Invitation, now: Date): void {
  switch (invitation.status) {
    case 'accepted':
      throw InvitationErrors.alreadyAccepted();
    case 'declined':
      throw InvitationErrors.declined();
    case 'revoked':
      throw InvitationErrors.revoked();
    case 'expired':
      throw InvitationErrors.expired();
    default:
      if (isInvitationExpired(invitation.invitedAt, now)) throw InvitationErrors.expired();
  }
}

@Injectable()
export class InvitationsService {
  private readonly tokenKey: Buffer;

  constructor(
    private readonly txHost: TransactionHost,
    private readonly invitations: InvitationsRepository,
    private readonly teams: TeamsService,
    private readonly access: AccessService,
    private readonly audit: AuditService,
    private readonly mail: MailService,
    private readonly config: AppConfig,
    private readonly users: UsersService,
    private readonly webhooks: WebhooksService,
    private readonly limiter: RateLimiterService,
    private readonly plans: PlansService,
  ) {
    this.tokenKey = deriveInvitationKey(config.jwt.secret);
  }

  async listForTeam(
    actor: Actor,
    teamId: number,
    query: { limit: number; cursor?: string },
  ): Promise<Page<InvitationDto>> {
    await this.access.requireTeam(actor, teamId, 'invitations.read');
    const afterId = decodeIdCursor(query.cursor);
    const now = new Date();
    const rows = await this.invitations.listPendingForTeam(
      teamId,
      invitationExpiryCutoff(now),
      query.limit + 1,
      afterId,
    );
    return toPage(rows, query.limit, toInvitationDto, (r) => encodeIdCursor(r.id));
  }

  /**
   * An address counts as mine only once verified: anyone can sign up with (or change to) an
   * invited address, so before that nothing addressed to it is shown.
   */
  async listMine(
    auth: UserActor,
    query: { limit: number; cursor?: string },
  ): Promise<Page<InvitationDto>> {
    const afterId = decodeIdCursor(query.cursor);
    if (!auth.emailVerified) return { items: [], nextCursor: null };
    const now = new Date();
    const rows = await this.invitations.listPendingForEmail(
      normalizeEmail(auth.email),
      invitationExpiryCutoff(now),
      query.limit + 1,
      afterId,
    );
    return toPage(rows, query.limit, toInvitationDto, (r) => encodeIdCursor(r.id));
  }

  /**
   * Creates the invitation, logs INVITE_TEAM_MEMBER and queues the email, all in one
   * transaction: the mail goes out once it commits (retried while SMTP is down), never for an
   * invitation that was not saved. With a team API key the invitation is sent in the name of
   * the key's creator (`invitedBy`), who is also the activity row's user; a key never invites
   * as `owner` (api_key.role_forbidden). Each mail counts against its inviter, team and
   * recipient (INVITATION_RATE_LIMIT_*, 429 past a limit): revoking and inviting again is no
   * way around it.
   */
  async invite(actor: Actor, teamId: number, dto: CreateInvitationDto): Promise<InvitationDto> {
    await this.access.requireTeam(actor, teamId, 'invitations.create', { grants: dto.role });
    const email = normalizeEmail(dto.email);
    const now = new Date();
    // invitations.invited_by is required: a key whose creator was deleted cannot invite.
    const invitedBy = actorUserId(actor);
    const inviter = invitedBy === null ? undefined : await this.inviterOf(actor, invitedBy);
    if (invitedBy === null || inviter === undefined) {
      throw TeamErrors.forbidden('This API key no longer has a creator to invite in the name of');
    }
    return this.txHost.transaction(async () => {
      const team = await this.teams.findTeam(teamId);
      if (!team) throw TeamErrors.notFound();
      if (await this.teams.hasMemberWithEmail(teamId, email)) {
        throw InvitationErrors.alreadyMember();
      }
      await this.invitations.retireExpired(teamId, email, invitationExpiryCutoff(now));
      // Members + pending invitations + this one within max_members (402); locks the team row.
      await this.plans.assertRoom(teamId, 'invitations', now);
      const invitation = await this.invitations.insertPending({
        teamId,
        email,
        role: dto.role,
        invitedBy,
        invitedAt: now,
      });
      if (!invitation) throw InvitationErrors.alreadyInvited();
      // Only a mail about to be sent counts; a 429 here rolls the invitation back.
      await this.limiter.consumeInvitationMail({ inviterId: invitedBy, teamId, email });
      await this.audit.recordFor(actor, { action: ActivityType.INVITE_TEAM_MEMBER, teamId });
      await this.sendInvitationMail(inviter, team, invitation);
      await this.webhooks.emit(teamId, 'invitation.created', invitationEventData(invitation));
      return toInvitationDto({ ...invitation, teamName: team.name, inviterName: inviter.name });
    });
  }

  /**
   * pending → revoked, and REVOKE_INVITATION (ADMIN_REVOKE_INVITATION for an admin) in the
   * same transaction, written only when the invitation was pending (revoking it again changes
   * nothing and logs nothing); answered invitations are a 409.
   */
  async revokeAsOwner(actor: Actor, teamId: number, invitationId: number): Promise<void> {
    await this.txHost.transaction(async () => {
      await this.access.requireTeam(actor, teamId, 'invitations.revoke');
      const invitation = await this.invitations.findInTeamForUpdate(teamId, invitationId);
      if (!invitation) throw InvitationErrors.notFound();
      // Expired ones cannot be answered any more either: nothing to revoke.
      if (invitation.status === 'revoked' || invitation.status === 'expired') return;
      if (invitation.status === 'accepted') throw InvitationErrors.alreadyAccepted();
      if (invitation.status === 'declined') throw InvitationErrors.declined();
      await this.invitations.setStatus(invitation.id, 'revoked');
      await this.audit.recordFor(actor, { action: ActivityType.REVOKE_INVITATION, teamId });
      await this.webhooks.emit(
        teamId,
        'invitation.revoked',
        invitationEventData({ ...invitation, status: 'revoked' }),
        { counted: actor.kind !== 'admin' },
      );
    });
  }

  /**
   * Joins the team. The invitation row is locked first, so concurrent accepts queue up: the
   * first joins, the others find it `accepted` (409). The membership insert also ignores an
   * existing (team, user) row, so a user who already belongs keeps one membership.
   */
  async accept(auth: UserActor, invitationId: number): Promise<AcceptedInvitationDto> {
    if (!auth.emailVerified) throw UserErrors.emailUnverified();
    const { team, membership } = await this.txHost.transaction(async () => {
      const invitation = await this.findMineForUpdate(auth, invitationId);
      const redeemed = await this.redeem(invitation, auth.id);
      await this.recordAccepted(auth, invitation);
      return redeemed;
    });
    return acceptedDto(team, membership);
  }

  /**
   * POST /invitations/accept {token}: the invite link's token, for a signed-in user. The token
   * must verify against the invitation's address and that address must be my email (403
   * otherwise); holding the link proves the mailbox, so an unverified email becomes verified
   * in the same transaction. Race-safe like `accept` (the invitation row is locked first).
   */
  async acceptByToken(auth: UserActor, token: string): Promise<AcceptedInvitationDto> {
    const { team, membership } = await this.txHost.transaction(async () => {
      const now = new Date();
      const invitation = await this.findByTokenForUpdate(token, now);
      const email = normalizeEmail(auth.email);
      if (invitation.email !== email) throw InvitationErrors.notForMe();
      const redeemed = await this.redeem(invitation, auth.id);
      if (!auth.emailVerified) await this.users.markEmailVerified(auth.id, email, now);
      await this.recordAccepted(auth, invitation);
      return redeemed;
    });
    return acceptedDto(team, membership);
  }

  /**
   * pending → declined, and DECLINE_INVITATION (by the invitee, against the inviting team) in
   * the same transaction.
   */
  async decline(auth: UserActor, invitationId: number): Promise<void> {
    if (!auth.emailVerified) throw UserErrors.emailUnverified();
    await this.txHost.transaction(async () => {
      const invitation = await this.findMineForUpdate(auth, invitationId);
      assertAnswerable(invitation, new Date());
      await this.invitations.setStatus(invitation.id, 'declined');
      await this.audit.recordFor(auth, {
        action: ActivityType.DECLINE_INVITATION,
        teamId: invitation.teamId,
      });
    });
  }

  /**
   * Sign-up with an invite token: call inside the sign-up transaction, after the user row is
   * written. Finds the invitation the token names, verifies the token against the invitation's
   * stored email (signature, expiry), checks that email is the new account's, then joins the
   * team with the invited role and marks the invitation accepted. The caller records
   * ACCEPT_INVITATION (after its SIGN_UP row) in the same transaction. Throws a 4xx AppError
   * on any problem, so the caller's transaction rolls back entirely.
   */
  async redeemForNewUser(
    token: string,
    userId: number,
    email: string,
  ): Promise<RedeemedInvitation> {
    return this.txHost.transaction(async () => {
      const invitation = await this.findByTokenForUpdate(token, new Date());
      // Only after the signature: an unverified token must not tell which address it is for.
      if (invitation.email !== normalizeEmail(email)) throw InvitationErrors.emailMismatch();
      return this.redeem(invitation, userId);
    });
  }

  /** The link of the invite email; exposed for tests and the log-only mail mode. */
  invitationLink(invitation: Invitation): string {
    const token = signInvitationToken(this.tokenKey, {
      invitationId: invitation.id,
      email: invitation.email,
      expiresAt: Math.floor(invitationExpiresAt(invitation.invitedAt).getTime() / 1000),
    });
    return `${this.config.appUrl}/invitations/accept?token=${encodeURIComponent(token)}`;
  }

  /**
   * The invitation an invite link's token names, locked, once the token verifies against its
   * stored address (signature first, then expiry); 400 `invitation.invalid_token` or 410
   * `invitation.expired` otherwise. Both ways of redeeming a link ask this.
   */
  private async findByTokenForUpdate(token: string, now: Date): Promise<Invitation> {
    const claims = readInvitationToken(token);
    if (claims === undefined) throw InvitationErrors.invalidToken();
    const invitation = await this.invitations.findByIdForUpdate(claims.invitationId);
    if (!invitation) throw InvitationErrors.invalidToken();
    const verified = verifyInvitationToken(this.tokenKey, token, invitation.email, now);
    if (!verified.ok) {
      throw verified.reason === 'expired'
        ? InvitationErrors.expired()
        : InvitationErrors.invalidToken();
    }
    return invitation;
  }

  /** ACCEPT_INVITATION by a signed-in invitee, in the transaction that joined them. */
  private async recordAccepted(auth: UserActor, invitation: Invitation): Promise<void> {
    await this.audit.recordFor(auth, {
      action: ActivityType.ACCEPT_INVITATION,
      teamId: invitation.teamId,
    });
  }

  /** Joins the team and marks the invitation accepted; the row must be locked by the caller. */
  private async redeem(invitation: Invitation, userId: number): Promise<RedeemedInvitation> {
    assertAnswerable(invitation, new Date());
    const team = await this.teams.findTeam(invitation.teamId);
    if (!team) throw InvitationErrors.notFound();
    const membership = await this.teams.join(
      invitation.teamId,
      userId,
      invitation.role as TeamRole,
    );
    await this.invitations.setStatus(invitation.id, 'accepted');
    const accepted: Invitation = { ...invitation, status: 'accepted' };
    // An invitee accepting is not the team's doing: never refused for its event budget.
    await this.webhooks.emit(team.id, 'invitation.accepted', invitationEventData(accepted), {
      counted: false,
    });
    return { team, membership, invitation: accepted };
  }

  /** Another person's invitation answers 404 exactly like a missing one. */
  private async findMineForUpdate(auth: UserActor, invitationId: number): Promise<Invitation> {
    const invitation = await this.invitations.findByIdForUpdate(invitationId);
    if (!invitation || invitation.email !== normalizeEmail(auth.email)) {
      throw InvitationErrors.notFound();
    }
    return invitation;
  }

  /**
   * Who the invite email and the response name as the inviter: the signed-in user, or for a
   * team API key (an admin) the user it acts for, as `GET` lists name them (`invitedByName`),
   * with the inviter's locale (the mail's language when the invitee has no account).
   */
  private async inviterOf(actor: Actor, userId: number): Promise<Inviter | undefined> {
    if (actor.kind === 'user') {
      return { label: actor.name ?? actor.email, name: actor.name, locale: actor.locale };
    }
    const user = await this.users.findActiveById(userId);
    return user && { label: user.name ?? user.email, name: user.name, locale: user.locale };
  }

  /**
   * The mail is written in the invitee's locale when the address belongs to an account,
   * else in the inviter's (API.md v1.2). The team's and the inviter's names are chosen by the
   * inviter, so they are written so that no mail client links them (`unlinkable`): a team
   * named `evil.example.com/login` must not become a link in a mail that comes from us.
   */
  private async sendInvitationMail(
    inviter: Inviter,
    team: Team,
    invitation: Invitation,
  ): Promise<void> {
    const invitee = await this.users.findActiveByEmail(invitation.email);
    const locale = toLocale(invitee?.locale ?? inviter.locale);
    await this.mail.send(
      renderMail(locale, 'invitation', invitation.email, {
        link: this.invitationLink(invitation),
        params: {
          inviter: unlinkable(inviter.label),
          team: unlinkable(team.name),
          role: roleName(locale, invitation.role),
          expires: invitationExpiresAt(invitation.invitedAt).toISOString(),
        },
      }),
    );
  }
}

interface Inviter {
  label: string;
  name: string | null;
  locale: string;
}
