import { NotFoundError, type ResourceWithOptions } from 'adminjs';
import { TEAM_ROLES, teamMembers } from '../../../database/schema.js';
import { DrizzleResource } from '../drizzle-resource.js';
import {
  navigation,
  payload,
  principal,
  readOnly,
  recordChange,
  reload,
  run,
  type AdminResourceDeps,
} from './resource-actions.js';

export function teamMembersResource({ db, service }: AdminResourceDeps): ResourceWithOptions {
  const options = readOnly({
    id: 'team_members',
    navigation: navigation.teams,
    sort: { sortBy: 'joinedAt', direction: 'desc' },
    listProperties: ['id', 'teamId', 'userId', 'role', 'joinedAt'],
    filterProperties: ['teamId', 'userId', 'role', 'joinedAt'],
    // AdminJS uses one form for new and edit; on edit only the role is applied.
    editProperties: ['teamId', 'userId', 'role'],
    properties: {
      teamId: { description: 'Chosen when the membership is created; not changed by Edit' },
      userId: { description: 'Chosen when the membership is created; not changed by Edit' },
      role: { availableValues: TEAM_ROLES.map((r) => ({ value: r, label: r })) },
    },
    actions: {
      new: {
        isAccessible: true,
        // Adding a member needs team, user and role; the form shows all three.
        handler: async (request, _response, context) => {
          if (request.method !== 'post') throw new NotFoundError('Use POST', 'admin');
          let memberId = 0;
          const body = payload(request);
          await run(async () => {
            memberId = await service.addMember(principal(context), {
              teamId: body.teamId,
              userId: body.userId,
              role: body.role,
            });
          });
          const record = await reload(context, memberId);
          return {
            record: record.toJSON(context.currentAdmin),
            redirectUrl: context.h.resourceUrl({ resourceId: 'team_members' }),
            notice: { message: 'successfullyCreated', type: 'success' },
          };
        },
      },
      edit: {
        isAccessible: true,
        handler: recordChange(
          (admin, id, request) => service.updateMemberRole(admin, id, payload(request).role),
          { message: 'successfullyUpdated', then: 'show' },
        ),
      },
      delete: {
        isAccessible: true,
        handler: recordChange((admin, id) => service.removeMember(admin, id), {
          message: 'successfullyDeleted',
          then: 'list',
        }),
      },
    },
  });
  return { resource: new DrizzleResource(teamMembers, db, { exactMatch: ['role'] }), options };
}
