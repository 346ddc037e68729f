import { Injectable, Logger } from '@nestjs/common';
import { HOUSEKEEPING_CRON, inBatches } from '../jobs/housekeeping.js';
import { JobsService } from '../jobs/jobs.service.js';
import { AuthHousekeepingRepository } from './housekeeping.repository.js';

export const AUTH_HOUSEKEEPING_JOB = 'auth.housekeeping';

/**
 * Hourly job: deletes expired sessions, password-reset links and email-verification links.
 * Nothing observable changes: an expired row is refused exactly like a missing one.
 */
@Injectable()
export class AuthHousekeeping {
  private readonly logger = new Logger(AuthHousekeeping.name);

  constructor(
    jobs: JobsService,
    private readonly repository: AuthHousekeepingRepository,
  ) {
    jobs.register({
      name: AUTH_HOUSEKEEPING_JOB,
      cron: HOUSEKEEPING_CRON,
      handle: () => this.run(new Date()).then(() => undefined),
      retry: { limit: 3, delaySeconds: 60, backoff: true },
      expireInSeconds: 15 * 60,
      batchSize: 1,
      pollingIntervalSeconds: 10,
    });
  }

  async run(
    now: Date,
  ): Promise<{ sessions: number; resetTokens: number; verificationTokens: number }> {
    const result = {
      sessions: await inBatches((n) => this.repository.deleteExpiredSessions(now, n)),
      resetTokens: await inBatches((n) => this.repository.deleteExpiredResetTokens(now, n)),
      verificationTokens: await inBatches((n) =>
        this.repository.deleteExpiredVerificationTokens(now, n),
      ),
    };
    this.logger.log({ ...result }, 'deleted expired sessions and links');
    return result;
  }
}
