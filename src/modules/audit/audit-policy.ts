import { ActivityType } from '../../database/schema.js';

/**
 * How each ActivityType is recorded, exactly one way each:
 * - `interceptor`: the route carries `@Audit(type)`; the row is written after the handler
 *   succeeds, for the signed-in user.
 * - `service`: the service writes the row with `AuditService.record` inside the transaction
 *   of the change itself (team, membership, invitation and subscription changes, account
 *   deletion, password changes), or on public routes where there is no signed-in user yet
 *   (sign-up, sign-in, reset confirm), or where Stripe acts (userId null).
 * `@Audit` refuses service types and `AuditService.record` refuses interceptor types, so a
 * type can never be written twice for one action.
 */
export const ACTIVITY_RECORDED_BY: Readonly<Record<ActivityType, 'interceptor' | 'service'>> = {
  [ActivityType.SIGN_UP]: 'service',
  [ActivityType.SIGN_IN]: 'service',
  [ActivityType.SIGN_OUT]: 'interceptor',
  [ActivityType.UPDATE_PASSWORD]: 'service',
  [ActivityType.DELETE_ACCOUNT]: 'service',
  [ActivityType.UPDATE_ACCOUNT]: 'interceptor',
  [ActivityType.CREATE_TEAM]: 'service',
  [ActivityType.REMOVE_TEAM_MEMBER]: 'service',
  // Written by InvitationsService in the invitation's transaction (with the invite email).
  [ActivityType.INVITE_TEAM_MEMBER]: 'service',
  [ActivityType.ACCEPT_INVITATION]: 'service',
  // Back-office changes: the owning services write them (AuditService.recordFor maps an admin
  // Actor's action through ADMIN_VARIANT; TeamsService.addMember and account deletion by an
  // admin write theirs directly), inside the transaction of the change.
  [ActivityType.ADMIN_UPDATE_TEAM]: 'service',
  [ActivityType.ADMIN_ADD_TEAM_MEMBER]: 'service',
  [ActivityType.ADMIN_UPDATE_TEAM_MEMBER]: 'service',
  [ActivityType.ADMIN_REMOVE_TEAM_MEMBER]: 'service',
  [ActivityType.ADMIN_REVOKE_INVITATION]: 'service',
  [ActivityType.ADMIN_DELETE_USER]: 'service',
  // Support actions on a user (issue 16): AuthModule's services write them against each team
  // of the user, in the transaction of the change; ADMIN_DISABLE_MFA carries the reason.
  [ActivityType.ADMIN_RESEND_VERIFICATION]: 'service',
  [ActivityType.ADMIN_REVOKE_SESSIONS]: 'service',
  [ActivityType.ADMIN_DISABLE_MFA]: 'service',
  // v1.1: every new type is a change written in the transaction of the change.
  [ActivityType.VERIFY_EMAIL]: 'service',
  // TeamsService.update / updateMemberRole, only when the name or role actually changes.
  [ActivityType.UPDATE_TEAM]: 'service',
  [ActivityType.UPDATE_TEAM_MEMBER]: 'service',
  // InvitationsService.revokeAsOwner / decline (pending → revoked / declined only).
  [ActivityType.REVOKE_INVITATION]: 'service',
  [ActivityType.DECLINE_INVITATION]: 'service',
  [ActivityType.REVOKE_SESSION]: 'service',
  [ActivityType.ENABLE_MFA]: 'service',
  [ActivityType.DISABLE_MFA]: 'service',
  [ActivityType.CREATE_API_KEY]: 'service',
  [ActivityType.REVOKE_API_KEY]: 'service',
  [ActivityType.CREATE_WEBHOOK]: 'service',
  [ActivityType.UPDATE_WEBHOOK]: 'service',
  [ActivityType.DELETE_WEBHOOK]: 'service',
  // SubscriptionSyncService, when Stripe's state changes the team's subscription fields;
  // userId null (Stripe acted, through the webhook or the checkout redirect).
  [ActivityType.UPDATE_SUBSCRIPTION]: 'service',
  // MailboxProofService (a password reset), one row per identity it unlinks.
  [ActivityType.UNLINK_OIDC_IDENTITY]: 'service',
};

/** Documentation of the team rule, shared by Swagger descriptions and code comments. */
export const AUDIT_TEAM_RULE =
  "Activity rows are logged against the route's `:teamId` when the route has one, else the user's first team (earliest joinedAt). A user who belongs to no team gets no row (activity_logs.teamId is required).";

/** What a team's log holds, for the Swagger description of GET /teams/:teamId/activity. */
export const TEAM_LOG_CONTENTS =
  "Holds the team's changes, each written in the transaction of the change and only when something changed: CREATE_TEAM, UPDATE_TEAM, UPDATE_TEAM_MEMBER, REMOVE_TEAM_MEMBER, INVITE_TEAM_MEMBER, REVOKE_INVITATION, ACCEPT_INVITATION, DECLINE_INVITATION (by the invitee, who need not be a member), UPDATE_SUBSCRIPTION (from Stripe: userId and user null), the ADMIN_* back-office changes, and the members' own actions logged against this team (sign-up, sign-in, account changes).";

/**
 * How an admin's action is logged: when a back-office admin (an `admin` Actor) performs an
 * operation through the same service as the API, the row names the admin as `userId` and
 * carries the ADMIN_ variant of the action, so the log says an admin did it.
 * (`AuditService.recordFor` applies this; actions without a variant keep their type.)
 */
export const ADMIN_VARIANT: Readonly<Partial<Record<ActivityType, ActivityType>>> = {
  [ActivityType.UPDATE_TEAM]: ActivityType.ADMIN_UPDATE_TEAM,
  [ActivityType.UPDATE_TEAM_MEMBER]: ActivityType.ADMIN_UPDATE_TEAM_MEMBER,
  [ActivityType.REMOVE_TEAM_MEMBER]: ActivityType.ADMIN_REMOVE_TEAM_MEMBER,
  [ActivityType.REVOKE_INVITATION]: ActivityType.ADMIN_REVOKE_INVITATION,
};
