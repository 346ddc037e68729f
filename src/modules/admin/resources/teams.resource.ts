import type { ActionResponse, After, ResourceWithOptions } from 'adminjs';
import { teams } from '../../../database/schema.js';
import { formatPlanOverride } from '../../plans/plan-limits.js';
import { Components } from '../admin.components.js';
import { exportCsvAction } from '../admin-export.js';
import type { AdminService } from '../admin.service.js';
import { DrizzleResource } from '../drizzle-resource.js';
import {
  navigation,
  payload,
  principal,
  readOnly,
  recordChange,
  type AdminResourceDeps,
} from './resource-actions.js';
import { showTeamScimTokens, TEAM_SCIM_TOKENS_PROPERTY } from './scim-tokens.resource.js';
import { showTeamDomains, TEAM_DOMAINS_PROPERTY } from './team-domains.resource.js';

/** The plan section of a team's page: computed, shown only (never written through the form). */
const PLAN_PROPERTIES = [
  'planProduct',
  'planStatus',
  'planSeats',
  'planLimits',
  'planUsage',
  'planFeatures',
  'planOverrideJson',
] as const;

const limitText = (value: number | null): string => (value === null ? 'unlimited' : String(value));

/**
 * Fills the plan section of a team's page from the plans module (the same view as
 * GET /teams/:teamId/plan, read as the staff member: support staff may read it).
 */
function withPlan(service: AdminService): After<ActionResponse> {
  return async (response, _request, context) => {
    const record = (response as { record?: { params: Record<string, unknown> } }).record;
    const id = Number(record?.params.id);
    if (!record || !Number.isSafeInteger(id)) return response;
    const view = await service.teamPlan(principal(context), id);
    const { limits, usage, seats } = view;
    Object.assign(record.params, {
      planProduct: view.plan === null ? 'Free plan' : `${view.plan.name} (${view.plan.productId})`,
      planStatus:
        view.status === null
          ? 'never subscribed'
          : [
              view.status,
              view.perSeat ? 'per seat' : null,
              view.cancelAtPeriodEnd ? 'cancels at period end' : null,
              view.currentPeriodEnd ? `period ends ${view.currentPeriodEnd.toISOString()}` : null,
            ]
              .filter((part) => part !== null)
              .join(', '),
      planSeats: `${seats.used} / ${seats.billed ?? 'none confirmed'}`,
      planLimits: `max_members ${limitText(limits.maxMembers)}, max_api_keys ${limitText(limits.maxApiKeys)}, max_webhooks ${limitText(limits.maxWebhooks)} (from ${view.limitsSource === 'override' ? 'the override' : view.limitsSource === 'plan' ? "the product's metadata" : 'FREE_PLAN_LIMITS'})`,
      planUsage: `members ${usage.members}, pending invitations ${usage.pendingInvitations}, API keys ${usage.apiKeys}, webhooks ${usage.webhooks}`,
      planFeatures: view.features.length === 0 ? 'none' : view.features.join(', '),
      planOverrideJson: formatPlanOverride(view.planOverride),
    });
    return response;
  };
}

export function teamsResource(deps: AdminResourceDeps): ResourceWithOptions {
  const { db, service } = deps;
  const planShown = { list: false, filter: false, show: true, edit: false };
  const options = readOnly({
    id: 'teams',
    navigation: navigation.teams,
    titleProperty: 'name',
    sort: { sortBy: 'createdAt', direction: 'desc' },
    listProperties: ['id', 'name', 'planName', 'subscriptionStatus', 'createdAt'],
    filterProperties: ['name', 'planName', 'subscriptionStatus', 'stripeCustomerId', 'createdAt'],
    showProperties: [
      'id',
      'name',
      'stripeCustomerId',
      'stripeSubscriptionId',
      ...PLAN_PROPERTIES,
      'domains',
      'createdAt',
      'updatedAt',
    ],
    // Stripe fields follow Stripe (webhooks): not in the form, and the edit handler only
    // ever writes `name`, whatever the request carries.
    editProperties: ['name'],
    properties: {
      domains: TEAM_DOMAINS_PROPERTY,
      scimTokens: TEAM_SCIM_TOKENS_PROPERTY,
      ...Object.fromEntries(
        PLAN_PROPERTIES.map((name) => [name, { type: 'string', isVisible: planShown }]),
      ),
    },
    actions: {
      ...exportCsvAction('teams', [
        'id',
        'name',
        'planName',
        'subscriptionStatus',
        'stripeCustomerId',
        'stripeSubscriptionId',
        'stripeProductId',
        'createdAt',
        'updatedAt',
      ]),
      show: { after: [showTeamDomains(deps), showTeamScimTokens(deps), withPlan(service)] },
      edit: {
        isAccessible: true,
        handler: recordChange(
          (admin, id, request) => service.updateTeam(admin, id, payload(request).name),
          { message: 'successfullyUpdated', then: 'show' },
        ),
      },
      // Limits for a deal made outside Stripe (admins only; support staff read them on the
      // page). ADMIN_UPDATE_TEAM.
      planOverride: {
        actionType: 'record',
        icon: 'Sliders',
        component: Components.PlanOverride,
        after: withPlan(service),
        handler: recordChange(
          (admin, id, request) => service.setPlanOverride(admin, id, payload(request).planOverride),
          { message: 'Plan override saved', then: 'show' },
        ),
      },
    },
  });
  return {
    resource: new DrizzleResource(teams, db, { exactMatch: ['subscriptionStatus'] }),
    options,
  };
}
