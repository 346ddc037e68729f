import { ActivityType } from '../../database/schema.js';

/**
 * How each ActivityType is recorded, exactly one way each:
 * - `interceptor`: the route carries `@Audit(type)`; the row is written after the handler
 *   succeeds, for the signed-in user.
 * - `service`: the service writes the row with `AuditService.record` inside the transaction
 *   of the change itself (membership changes, account deletion, password changes), or on
 *   public routes where there is no signed-in user yet (sign-up, sign-in, reset confirm).
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
  // Written by AdminService inside the transaction of each admin-panel change.
  [ActivityType.ADMIN_UPDATE_TEAM]: 'service',
  [ActivityType.ADMIN_ADD_TEAM_MEMBER]: 'service',
  [ActivityType.ADMIN_UPDATE_TEAM_MEMBER]: 'service',
  [ActivityType.ADMIN_REMOVE_TEAM_MEMBER]: 'service',
  [ActivityType.ADMIN_REVOKE_INVITATION]: 'service',
  [ActivityType.ADMIN_DELETE_USER]: 'service',
  // Written by EmailVerificationService in the transaction that verifies (a public route).
  [ActivityType.VERIFY_EMAIL]: 'service',
};

/** Documentation of the team rule, shared by Swagger descriptions and code comments. */
export const AUDIT_TEAM_RULE =
  "Activity rows are logged against the route's `:teamId` when the route has one, else the user's first team (earliest joinedAt). A user who belongs to no team gets no row (activity_logs.teamId is required).";
