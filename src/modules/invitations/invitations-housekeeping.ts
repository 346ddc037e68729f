import { Injectable, Logger } from '@nestjs/common';
import { HOUSEKEEPING_CRON, inBatches } from '../jobs/housekeeping.js';
import { JobsService } from '../jobs/jobs.service.js';
import { invitationExpiryCutoff } from './invitation-token.js';
import { InvitationsRepository } from './invitations.repository.js';

export const INVITATIONS_HOUSEKEEPING_JOB = 'invitations.expire';

/**
 * Hourly job: pending invitations past their 7 days become `expired`. The API already treats
 * them as expired (lists leave them out, answering them is 410 `invitation.expired`); the
 * status makes the table say so too (admin panel, reports).
 */
@Injectable()
export class InvitationsHousekeeping {
  private readonly logger = new Logger(InvitationsHousekeeping.name);

  constructor(
    jobs: JobsService,
    private readonly invitations: InvitationsRepository,
  ) {
    jobs.register({
      name: INVITATIONS_HOUSEKEEPING_JOB,
      cron: HOUSEKEEPING_CRON,
      handle: () => this.run(new Date()).then(() => undefined),
      retry: { limit: 3, delaySeconds: 60, backoff: true },
      expireInSeconds: 15 * 60,
      batchSize: 1,
      pollingIntervalSeconds: 10,
    });
  }

  async run(now: Date): Promise<number> {
    const cutoff = invitationExpiryCutoff(now);
    const expired = await inBatches((n) => this.invitations.expirePending(cutoff, n));
    this.logger.log({ expired }, 'marked expired invitations');
    return expired;
  }
}
