import { Injectable } from '@nestjs/common';
import { ActivityType } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { ApiKeysService } from '../api-keys/api-keys.service.js';
import { AuditService } from '../audit/audit.service.js';
import { UsersService } from '../users/users.service.js';
import { WebhooksService } from '../webhooks/webhooks.service.js';
import { MfaService } from './mfa.service.js';
import { OidcRepository } from './oidc.repository.js';

/**
 * What a used password-reset link proves: whoever reads the account's mailbox holds the
 * account from now on. Anyone can sign up with another person's address and, while it stays
 * unverified, set up access that outlives their sessions (pre-account hijacking). So the reset
 * verifies the address, and removes the API keys, webhook endpoints, TOTP and provider links
 * the user set up before it was verified (API.md v1.2), each removal logged in the user's name.
 *
 * "Before it was verified": before users.email_verified_at, which a confirmed change of address
 * leaves as it was (the account kept a proven address throughout); for an address still
 * unverified at the reset, everything set up so far. Keys and endpoints other owners made in
 * the user's teams stay: a key or an endpoint belongs to whoever made it (a key's creator when
 * a key made it), as activity rows say.
 */
@Injectable()
export class MailboxProofService {
  constructor(
    private readonly txHost: TransactionHost,
    private readonly users: UsersService,
    private readonly apiKeys: ApiKeysService,
    private readonly webhooks: WebhooksService,
    private readonly mfa: MfaService,
    private readonly oidc: OidcRepository,
    private readonly audit: AuditService,
  ) {}

  /** Inside the reset's transaction, after the new password is set. */
  async provenByReset(userId: number, ipAddress: string | null): Promise<void> {
    await this.txHost.transaction(async () => {
      const now = new Date();
      const user = await this.users.lockActiveById(userId);
      if (!user) return;
      const verifiedAt = user.emailVerifiedAt ?? now;
      if (user.emailVerifiedAt === null) {
        // Every live reset link went to the current address: changing it retires them.
        await this.users.markEmailVerified(user.id, user.email, now);
        await this.audit.recordSystem({ action: ActivityType.VERIFY_EMAIL, userId, ipAddress });
      }
      await this.apiKeys.revokeCreatedBefore(userId, verifiedAt, ipAddress);
      await this.webhooks.removeCreatedBefore(userId, verifiedAt, ipAddress);
      await this.mfa.removeCreatedBefore(userId, verifiedAt, ipAddress);
      for (const _identity of await this.oidc.deleteIdentitiesCreatedBy(userId, verifiedAt)) {
        await this.audit.recordSystem({
          action: ActivityType.UNLINK_OIDC_IDENTITY,
          userId,
          ipAddress,
        });
      }
    });
  }
}
