import type { ResourceWithOptions } from 'adminjs';
import { ssoConnections } from '../../../database/schema.js';
import { DrizzleResource } from '../drizzle-resource.js';
import {
  navigation,
  readOnly,
  teamRecordAction,
  type AdminResourceDeps,
} from './resource-actions.js';

// Each team's SAML connection (filter by team): read, and disable/enable through SsoService
// (UPDATE_SSO_CONNECTION by the admin). A disabled connection signs nobody in and enforces
// nothing; the owners' settings are kept, so enabling restores it as it was.
export function ssoConnectionsResource({ db, sso }: AdminResourceDeps): ResourceWithOptions {
  const options = readOnly({
    id: 'sso_connections',
    navigation: navigation.teams,
    titleProperty: 'idpEntityId',
    sort: { sortBy: 'createdAt', direction: 'desc' },
    listProperties: ['id', 'teamId', 'idpEntityId', 'enforced', 'disabledAt', 'createdAt'],
    filterProperties: ['teamId', 'idpEntityId', 'enforced', 'disabledAt', 'createdAt'],
    showProperties: [
      'id',
      'teamId',
      'idpEntityId',
      'idpSsoUrl',
      'idpCertificates',
      'enforced',
      'disabledAt',
      'createdAt',
      'updatedAt',
    ],
    properties: {
      teamId: { reference: 'teams' },
      idpCertificates: { isArray: true, type: 'textarea' },
    },
    actions: {
      disable: teamRecordAction({
        icon: 'PauseCircle',
        guard:
          "Disable this SSO connection? Its users cannot sign in through it and the team's SSO enforcement stops.",
        isAccessible: ({ record }) => !record?.params.disabledAt,
        message: 'SSO connection disabled',
        change: (admin, teamId) => sso.setDisabled(admin, teamId, true),
      }),
      enable: teamRecordAction({
        icon: 'PlayCircle',
        guard: 'Enable this SSO connection again?',
        isAccessible: ({ record }) => Boolean(record?.params.disabledAt),
        message: 'SSO connection enabled',
        change: (admin, teamId) => sso.setDisabled(admin, teamId, false),
      }),
    },
  });
  return {
    resource: new DrizzleResource(ssoConnections, db, { exactMatch: ['teamId'] }),
    options,
  };
}
