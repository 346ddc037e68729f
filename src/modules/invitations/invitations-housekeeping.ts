import { Injectable, Logger } from '@nestjs/common';
import { HOUSEKEEPING_JOB, inBatches } from '../jobs/housekeeping.js';
import { JobHandler } from '../jobs/job-handler.decorator.js';
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

  constructor(private readonly invitations: InvitationsRepository) {}

  @JobHandler(INVITATIONS_HOUSEKEEPING_JOB, HOUSEKEEPING_JOB)
  hourly(): Promise<unknown> {
    return this.run(new Date());
  }

  async run(now: Date): Promise<number> {
    const cutoff = invitationExpiryCutoff(now);
    const expired = await inBatches((n) => this.invitations.expirePending(cutoff, n));
    this.logger.log({ expired }, 'marked expired invitations');
    return expired;
  }
}
