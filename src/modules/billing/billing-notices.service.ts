import { Injectable } from '@nestjs/common';
import type Stripe from 'stripe';
import { toLocale, type Locale } from '../../common/i18n/locales.js';
import { AppConfig } from '../../config/app-config.js';
import type { Team } from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';
import { renderMail } from '../mail/mail-templates.js';
import { unlinkable } from '../mail/mail-text.js';
import { MailService, type MailMessage } from '../mail/mail.service.js';
import { TeamsService } from '../teams/teams.service.js';
import { formatAmount, formatDate } from './billing-mail.js';
import { BillingRepository, type NoticeKind } from './billing.repository.js';
import { idOf } from './billing.mappers.js';
import { billingPageUrl } from './billing.service.js';

export type NoticeOutcome = 'applied' | 'duplicate' | 'unknown_customer' | 'already_notified';

/**
 * Billing mails to a team's owners, each in the owner's language, through the mail job queue:
 * `invoice.payment_failed` (dunning: once per invoice, however many events or deliveries
 * announce it) and `customer.subscription.trial_will_end` (once per subscription and trial
 * end). One transaction records the event (stripe_events, not part of the subscription
 * ordering), the notice (billing_notices, keyed by the invoice or trial) and queues the mails:
 * a redelivery finds the event, another event for the same invoice finds the notice.
 */
@Injectable()
export class BillingNoticesService {
  constructor(
    private readonly config: AppConfig,
    private readonly txHost: TransactionHost,
    private readonly repo: BillingRepository,
    private readonly teams: TeamsService,
    private readonly mail: MailService,
  ) {}

  onPaymentFailed(event: Stripe.Event, invoice: Stripe.Invoice): Promise<NoticeOutcome> {
    return this.notify(
      event,
      idOf(invoice.customer),
      'payment_failed',
      invoice.id,
      (locale, to, team) =>
        renderMail(locale, 'paymentFailed', to, {
          link: invoice.hosted_invoice_url ?? billingPageUrl(this.config.appUrl, team.id),
          params: {
            team: unlinkable(team.name),
            invoice: invoice.number ?? invoice.id,
            amount: formatAmount(locale, invoice.amount_due, invoice.currency),
          },
        }),
    );
  }

  onTrialWillEnd(
    event: Stripe.Event,
    subscription: Stripe.Subscription,
  ): Promise<NoticeOutcome | 'ignored'> {
    const trialEnd = subscription.trial_end;
    if (trialEnd === null) return Promise.resolve('ignored');
    return this.notify(
      event,
      idOf(subscription.customer),
      'trial_will_end',
      // A trial extended to a new end is a new notice.
      `${subscription.id}@${trialEnd}`,
      (locale, to, team) =>
        renderMail(locale, 'trialWillEnd', to, {
          link: billingPageUrl(this.config.appUrl, team.id),
          params: { team: unlinkable(team.name), date: formatDate(locale, trialEnd) },
        }),
    );
  }

  private async notify(
    event: Stripe.Event,
    customerId: string | undefined,
    kind: NoticeKind,
    subjectId: string,
    render: (locale: Locale, to: string, team: Team) => MailMessage,
  ): Promise<NoticeOutcome> {
    if (customerId === undefined) return 'unknown_customer';
    if (await this.repo.eventExists(event.id)) return 'duplicate';
    return this.txHost.transaction(async () => {
      const team = await this.teams.findTeamByStripeCustomerForUpdate(customerId);
      if (!team) return 'unknown_customer' as const;
      const now = new Date();
      // Not a subscription change: it must not take part in their ordering.
      if (!(await this.repo.recordUnorderedEvent(event, customerId, now))) {
        return 'duplicate' as const;
      }
      if (!(await this.repo.recordNotice({ kind, subjectId, teamId: team.id }, now))) {
        return 'already_notified' as const;
      }
      for (const owner of await this.teams.ownerRecipients(team.id)) {
        await this.mail.send(render(toLocale(owner.locale), owner.email, team));
      }
      return 'applied' as const;
    });
  }
}
