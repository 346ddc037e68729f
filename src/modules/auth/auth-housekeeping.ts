import { Injectable, Logger } from '@nestjs/common';
import { HOUSEKEEPING_JOB, inBatches } from '../jobs/housekeeping.js';
import { JobHandler } from '../jobs/job-handler.decorator.js';
import { AuthHousekeepingRepository } from './housekeeping.repository.js';

export const AUTH_HOUSEKEEPING_JOB = 'auth.housekeeping';

/**
 * Hourly job: deletes expired sessions, password-reset links and email-verification links.
 * Nothing observable changes: an expired row is refused exactly like a missing one.
 */
@Injectable()
export class AuthHousekeeping {
  private readonly logger = new Logger(AuthHousekeeping.name);

  constructor(private readonly repository: AuthHousekeepingRepository) {}

  @JobHandler(AUTH_HOUSEKEEPING_JOB, HOUSEKEEPING_JOB)
  hourly(): Promise<unknown> {
    return this.run(new Date());
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
