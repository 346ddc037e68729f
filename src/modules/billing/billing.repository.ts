import { Injectable } from '@nestjs/common';
import { eq, max } from 'drizzle-orm';
import { TransactionHost } from '../../database/transaction-host.js';
import { stripeEvents } from '../../database/schema.js';

export interface RecordedEvent {
  id: string;
  type: string;
  /** The event's `created` (Unix seconds). */
  created: number;
  stripeCustomerId: string | null;
  /** Set only when the event was applied to this team. */
  teamId: number | null;
}

/** Owns `stripe_events`. The team rows billing reads and writes go through TeamsService. */
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
}
