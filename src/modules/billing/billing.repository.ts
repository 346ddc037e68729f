import { Injectable } from '@nestjs/common';
import { eq, max, sql } from 'drizzle-orm';
import { TransactionHost } from '../../database/transaction-host.js';
import { billingNotices, stripeEvents } from '../../database/schema.js';

export type NoticeKind = 'payment_failed' | 'trial_will_end';

export interface RecordedEvent {
  id: string;
  type: string;
  /** The event's `created` (Unix seconds). */
  created: number;
  stripeCustomerId: string | null;
  /** Set only when the event was applied to this team. */
  teamId: number | null;
}

/** Owns `stripe_events` and `billing_notices`. The team rows billing reads and writes go through TeamsService. */
@Injectable()
export class BillingRepository {
  constructor(private readonly txHost: TransactionHost) {}

  async eventExists(eventId: string): Promise<boolean> {
    const [row] = await this.txHost.db
      .select({ id: stripeEvents.id })
      .from(stripeEvents)
      .where(eq(stripeEvents.id, eventId));
    return row !== undefined;
  }

  /** `created` (Unix seconds) of the newest event applied to the team, if any. */
  async lastAppliedEventAt(teamId: number): Promise<number | null> {
    const [row] = await this.txHost.db
      .select({ at: max(stripeEvents.createdAt) })
      .from(stripeEvents)
      .where(eq(stripeEvents.teamId, teamId));
    return row?.at ? Math.floor(row.at.getTime() / 1000) : null;
  }

  /**
   * Records an event id; false when it was already recorded (also by a concurrent transaction,
   * which this insert waits for on the primary key).
   */
  async recordEvent(event: RecordedEvent, now: Date): Promise<boolean> {
    const rows = await this.txHost.db
      .insert(stripeEvents)
      .values({
        id: event.id,
        type: event.type,
        createdAt: new Date(event.created * 1000),
        processedAt: now,
        stripeCustomerId: event.stripeCustomerId,
        teamId: event.teamId,
      })
      .onConflictDoNothing({ target: stripeEvents.id })
      .returning({ id: stripeEvents.id });
    return rows.length > 0;
  }

  /** recordEvent for an event outside the subscription ordering (a notice, entitlements). */
  recordUnorderedEvent(
    event: Pick<RecordedEvent, 'id' | 'type' | 'created'>,
    stripeCustomerId: string,
    now: Date,
  ): Promise<boolean> {
    const { id, type, created } = event;
    return this.recordEvent({ id, type, created, stripeCustomerId, teamId: null }, now);
  }

  /**
   * Takes the team's seat-sync lock until the surrounding transaction ends (a
   * transaction-scoped advisory lock: it holds through a transaction-mode pooler). Seat jobs
   * of one team then run one at a time, so each reads the count after the previous one sent
   * its own, and Stripe ends with the latest. Membership writes never take it.
   */
  async lockSeatSync(teamId: number): Promise<void> {
    // The lock holder waits on Stripe inside its transaction: no idle timeout may end it.
    await this.txHost.db.execute(sql`set local idle_in_transaction_session_timeout = 0`);
    await this.txHost.db.execute(
      sql`select pg_advisory_xact_lock(hashtext('nest-saas:seats'), ${teamId}::int)`,
    );
  }

  /** Records that a notice about `subjectId` was queued; false when it already was. */
  async recordNotice(
    notice: { kind: NoticeKind; subjectId: string; teamId: number },
    now: Date,
  ): Promise<boolean> {
    const rows = await this.txHost.db
      .insert(billingNotices)
      .values({ ...notice, createdAt: now })
      .onConflictDoNothing({ target: [billingNotices.kind, billingNotices.subjectId] })
      .returning({ kind: billingNotices.kind });
    return rows.length > 0;
  }
}
