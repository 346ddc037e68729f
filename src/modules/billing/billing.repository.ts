import { Injectable } from '@nestjs/common';
import { and, eq, inArray, max, ne, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { TransactionHost } from '../../database/transaction-host.js';
import { stripeEvents, teamMembers, teams, type Team } from '../../database/schema.js';
import type { SubscriptionFields } from './billing.mappers.js';
import { LIVE_STATUSES } from './subscription-status.js';

export interface RecordedEvent {
  id: string;
  type: string;
  /** The event's `created` (Unix seconds). */
  created: number;
  stripeCustomerId: string | null;
  /** Set only when the event was applied to this team. */
  teamId: number | null;
}

@Injectable()
export class BillingRepository {
  constructor(private readonly txHost: TransactionHost) {}

  async findTeam(teamId: number): Promise<Team | undefined> {
    const [team] = await this.txHost.db.select().from(teams).where(eq(teams.id, teamId));
    return team;
  }

  /** Locks the team row until the surrounding transaction ends. */
  async findTeamForUpdate(teamId: number): Promise<Team | undefined> {
    const [team] = await this.txHost.db
      .select()
      .from(teams)
      .where(eq(teams.id, teamId))
      .for('update');
    return team;
  }

  async findTeamIdByCustomer(customerId: string): Promise<number | undefined> {
    const [row] = await this.txHost.db
      .select({ id: teams.id })
      .from(teams)
      .where(eq(teams.stripeCustomerId, customerId));
    return row?.id;
  }

  /** Locks the team row that owns the Stripe customer until the transaction ends. */
  async findTeamByCustomerForUpdate(customerId: string): Promise<Team | undefined> {
    const [team] = await this.txHost.db
      .select()
      .from(teams)
      .where(eq(teams.stripeCustomerId, customerId))
      .for('update');
    return team;
  }

  async setCustomerId(teamId: number, customerId: string, now: Date): Promise<void> {
    await this.txHost.db
      .update(teams)
      .set({ stripeCustomerId: customerId, updatedAt: now })
      .where(eq(teams.id, teamId));
  }

  async setSubscription(teamId: number, fields: SubscriptionFields, now: Date): Promise<void> {
    await this.txHost.db
      .update(teams)
      .set({ ...fields, updatedAt: now })
      .where(eq(teams.id, teamId));
  }

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

  /**
   * Teams the user owns with no other owner whose subscription is live
   * (trialing, active, past_due, unpaid, paused).
   */
  async soleOwnedTeamsWithLiveSubscription(
    userId: number,
  ): Promise<{ teamId: number; name: string; subscriptionStatus: string }[]> {
    const other = alias(teamMembers, 'other_owner');
    const rows = await this.txHost.db
      .select({ teamId: teams.id, name: teams.name, subscriptionStatus: teams.subscriptionStatus })
      .from(teamMembers)
      .innerJoin(teams, eq(teams.id, teamMembers.teamId))
      .where(
        and(
          eq(teamMembers.userId, userId),
          eq(teamMembers.role, 'owner'),
          inArray(teams.subscriptionStatus, [...LIVE_STATUSES]),
          sql`not exists (${this.txHost.db
            .select({ one: sql`1` })
            .from(other)
            .where(
              and(
                eq(other.teamId, teamMembers.teamId),
                eq(other.role, 'owner'),
                ne(other.userId, userId),
              ),
            )})`,
        ),
      )
      .orderBy(teams.id);
    return rows.map((r) => ({ ...r, subscriptionStatus: r.subscriptionStatus ?? '' }));
  }
}
