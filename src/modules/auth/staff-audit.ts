import type { AdminActor } from '../../common/auth/actor.js';
import type { ActivityType } from '../../database/schema.js';
import type { AuditService } from '../audit/audit.service.js';
import type { TeamsService } from '../teams/teams.service.js';

/**
 * Logs a back-office action on a user against each team the user belongs to (the admin as
 * userId), inside the caller's transaction. A user of no team gets no row (activity_logs needs
 * a team); the admin's own sign-in and the application log still name the action.
 */
export async function recordOnUserTeams(
  audit: AuditService,
  teams: TeamsService,
  actor: AdminActor,
  userId: number,
  action: ActivityType,
  reason?: string,
): Promise<number> {
  const teamIds = await teams.teamIdsOfUser(userId);
  for (const teamId of teamIds) {
    await audit.recordFor(actor, { action, teamId, reason });
  }
  return teamIds.length;
}
