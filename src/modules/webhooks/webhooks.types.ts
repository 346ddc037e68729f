/** The events a team's endpoints may subscribe to (API.md v1.1, Outgoing webhooks). */
export const WEBHOOK_EVENT_TYPES = [
  'member.added',
  'member.removed',
  'member.role_changed',
  'invitation.created',
  'invitation.accepted',
  'invitation.revoked',
  'team.updated',
  'subscription.updated',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The JSON body of every delivery of one event (stored as is, sent byte for byte). */
export interface WebhookPayload {
  /** `evt_…`, also the `webhook-id` header. */
  id: string;
  type: WebhookEventType;
  /** ISO-8601. */
  createdAt: string;
  teamId: number;
  /** The changed object as the API shows it. */
  data: unknown;
}
