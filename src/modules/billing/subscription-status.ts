// The statuses live with the plans module (below teams, api-keys and webhooks) so that the
// limit decision, which every enforcing module reaches, reads the same definition; billing's
// public surface is unchanged.
export * from '../plans/subscription-status.js';
