import { Injectable, Logger } from '@nestjs/common';
import { TransactionHost } from '../../database/transaction-host.js';
import { JobHandler } from '../jobs/job-handler.decorator.js';
import { SEAT_SYNC_JOB, type SeatSyncJob } from '../teams/seat-sync.js';
import { TeamsService } from '../teams/teams.service.js';
import { BillingRepository } from './billing.repository.js';
import { decideSeatSync, seatIdempotencyKey, type SeatDecision } from './seats.js';
import { StripeClient } from './stripe.client.js';

/**
 * Keeps a per-seat subscription item's `quantity` equal to the team's member count. TeamsService
 * queues SEAT_SYNC_JOB with every membership change of a per-seat team (and billing when a
 * checkout completes); this runs it after the change committed, never in the request.
 *
 * One team's jobs run one at a time (BillingRepository.lockSeatSync), each reading the team's
 * current version and count: whatever order jobs race in, the last one to reach Stripe sent
 * the latest count. A job whose version Stripe already confirmed does nothing. The update
 * carries an Idempotency-Key of team, item and version, so a retry after a lost answer (or the
 * SDK's own retries) changes the quantity once. A failure throws: the queue retries it with
 * backoff (2 s doubling, 16 retries: about a day and a half), and the next membership change
 * queues a fresh job anyway.
 */
@Injectable()
export class SeatSyncWorker {
  private readonly logger = new Logger(SeatSyncWorker.name);

  constructor(
    private readonly txHost: TransactionHost,
    private readonly repo: BillingRepository,
    private readonly teams: TeamsService,
    private readonly stripe: StripeClient,
  ) {}

  @JobHandler(SEAT_SYNC_JOB, {
    retry: { limit: 16, delaySeconds: 2, backoff: true },
    // Stripe's SDK: 15 s per attempt, 3 attempts.
    expireInSeconds: 120,
    batchSize: 5,
    pollingIntervalSeconds: 1,
  })
  async run(job: SeatSyncJob): Promise<void> {
    await this.sync(job.teamId);
  }

  /** One sync of the team's seats; what it decided. */
  sync(teamId: number): Promise<SeatDecision> {
    return this.txHost.transaction(async () => {
      await this.repo.lockSeatSync(teamId);
      const decision = decideSeatSync(await this.teams.seatState(teamId));
      if (!decision.send) return decision;
      const { itemId, quantity, version } = decision;
      try {
        await this.stripe.api.subscriptionItems.update(
          itemId,
          { quantity, proration_behavior: 'create_prorations' },
          { idempotencyKey: seatIdempotencyKey(teamId, itemId, version) },
        );
      } catch (error) {
        // The item is gone (the subscription was replaced or ended): nothing left to bill; the
        // subscription sync brings the new item, and the next change syncs it.
        if (this.stripe.isNotFound(error)) {
          this.logger.warn({ teamId, itemId }, 'seat sync: subscription item no longer exists');
          return decision;
        }
        throw error;
      }
      await this.teams.recordSeatsBilled(teamId, quantity, version);
      this.logger.log({ teamId, quantity, version }, 'seat count sent to Stripe');
      return decision;
    });
  }
}
