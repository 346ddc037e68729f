import { ActivityType } from '../../database/schema.js';

/** Documentation of the team rule, shared by Swagger descriptions and code comments. */
export const AUDIT_TEAM_RULE =
  "Activity rows are logged against the route's `:teamId` when the route has one, else the user's first team (earliest joinedAt). A user who belongs to no team gets no row (activity_logs.teamId is required).";

/** What a team's log holds, for the Swagger description of GET /teams/:teamId/activity. */
export const TEAM_LOG_CONTENTS =
  "Holds the team's changes, each written in the transaction of the change and only when something changed: CREATE_TEAM, UPDATE_TEAM, UPDATE_TEAM_MEMBER, REMOVE_TEAM_MEMBER, INVITE_TEAM_MEMBER, REVOKE_INVITATION, ACCEPT_INVITATION, DECLINE_INVITATION (by the invitee, who need not be a member), UPDATE_SUBSCRIPTION (from Stripe: userId and user null), CANCEL_SUBSCRIPTION and RESUME_SUBSCRIPTION (an owner asked for a cancel at the period end, or undid it), CREATE_API_KEY, REVOKE_API_KEY, CREATE_WEBHOOK, UPDATE_WEBHOOK, DELETE_WEBHOOK, ADD_DOMAIN, VERIFY_DOMAIN, REMOVE_DOMAIN, CREATE_SSO_CONNECTION, UPDATE_SSO_CONNECTION, DELETE_SSO_CONNECTION, CREATE_SCIM_TOKEN, REVOKE_SCIM_TOKEN, SCIM_PROVISION_USER and SCIM_DEPROVISION_USER (the team's directory acted: userId is the user it provisioned or deprovisioned), the ADMIN_* back-office changes, and the members' own actions logged against this team (sign-up, sign-in, account changes).";

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
