/**
 * The job that sends a per-seat team's member count to Stripe. Teams queues it (in the
 * transaction of every membership change, see TeamsService); billing handles it
 * (SeatSyncWorker), since billing knows Stripe and teams must not import billing.
 */
export const SEAT_SYNC_JOB = 'billing.sync-seats';

export interface SeatSyncJob {
  teamId: number;
}
