import { Injectable } from '@nestjs/common';
import {
  and,
  arrayContains,
  asc,
  desc,
  eq,
  exists,
  isNull,
  lt,
  lte,
  min,
  or,
  sql,
} from 'drizzle-orm';
import {
  webhookDeliveries,
  webhookEndpoints,
  webhookEvents,
  type WebhookDelivery,
  type WebhookDeliveryStatus,
  type WebhookEndpoint,
  type WebhookEvent,
} from '../../database/schema.js';
import { TransactionHost } from '../../database/transaction-host.js';

export interface DeliveryRow extends WebhookDelivery {
  eventType: string;
}

/** A delivery with what sending it needs. */
export interface DeliveryJobRow {
  delivery: WebhookDelivery;
  endpoint: WebhookEndpoint;
  event: WebhookEvent;
}

export interface AttemptOutcome {
  status: WebhookDeliveryStatus;
  statusCode: number | null;
  error: string | null;
  excerpt: string | null;
  nextAttemptAt: Date | null;
}

@Injectable()
export class WebhooksRepository {
  constructor(private readonly txHost: TransactionHost) {}

  async insertEndpoint(values: {
    teamId: number;
    url: string;
    description: string | null;
    events: string[];
    secret: string;
    createdBy: number | null;
  }): Promise<WebhookEndpoint> {
    const [row] = await this.txHost.db.insert(webhookEndpoints).values(values).returning();
    return row!;
  }

  /** Newest first, keyset on id. */
  async listEndpoints(
    teamId: number,
    limit: number,
    beforeId?: number,
  ): Promise<WebhookEndpoint[]> {
    return this.txHost.db
      .select()
      .from(webhookEndpoints)
      .where(
        and(
          eq(webhookEndpoints.teamId, teamId),
          beforeId === undefined ? undefined : lt(webhookEndpoints.id, beforeId),
        ),
      )
      .orderBy(desc(webhookEndpoints.id))
      .limit(limit);
  }

  async findEndpoint(teamId: number, id: number): Promise<WebhookEndpoint | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.teamId, teamId), eq(webhookEndpoints.id, id)));
    return row;
  }

  async findEndpointForUpdate(teamId: number, id: number): Promise<WebhookEndpoint | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.teamId, teamId), eq(webhookEndpoints.id, id)))
      .for('update');
    return row;
  }

  async findEndpointById(id: number): Promise<WebhookEndpoint | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.id, id));
    return row;
  }

  async updateEndpoint(
    id: number,
    values: Partial<
      Pick<
        WebhookEndpoint,
        | 'url'
        | 'description'
        | 'events'
        | 'enabled'
        | 'secret'
        | 'previousSecret'
        | 'previousSecretExpiresAt'
      >
    >,
    now: Date,
  ): Promise<WebhookEndpoint> {
    const [row] = await this.txHost.db
      .update(webhookEndpoints)
      .set({ ...values, updatedAt: now })
      .where(eq(webhookEndpoints.id, id))
      .returning();
    return row!;
  }

  async deleteEndpoint(teamId: number, id: number): Promise<boolean> {
    const rows = await this.txHost.db
      .delete(webhookEndpoints)
      .where(and(eq(webhookEndpoints.teamId, teamId), eq(webhookEndpoints.id, id)))
      .returning({ id: webhookEndpoints.id });
    return rows.length > 0;
  }

  /** Deletes the endpoints `userId` set up before `before` (any team); returns what went. */
  async deleteCreatedBy(
    userId: number,
    before: Date,
  ): Promise<Pick<WebhookEndpoint, 'id' | 'teamId'>[]> {
    return this.txHost.db
      .delete(webhookEndpoints)
      .where(and(eq(webhookEndpoints.createdBy, userId), lt(webhookEndpoints.createdAt, before)))
      .returning({ id: webhookEndpoints.id, teamId: webhookEndpoints.teamId });
  }

  /** Enabled endpoints of the team subscribed to `type`. */
  async subscribedEndpoints(teamId: number, type: string): Promise<WebhookEndpoint[]> {
    return this.txHost.db
      .select()
      .from(webhookEndpoints)
      .where(
        and(
          eq(webhookEndpoints.teamId, teamId),
          eq(webhookEndpoints.enabled, true),
          arrayContains(webhookEndpoints.events, [type]),
        ),
      );
  }

  async insertEvent(values: {
    id: string;
    teamId: number;
    type: string;
    payload: unknown;
    createdAt: Date;
  }): Promise<void> {
    await this.txHost.db.insert(webhookEvents).values(values);
  }

  async insertDeliveries(
    rows: { endpointId: number; eventId: string; nextAttemptAt: Date }[],
  ): Promise<WebhookDelivery[]> {
    if (rows.length === 0) return [];
    return this.txHost.db.insert(webhookDeliveries).values(rows).returning();
  }

  /** Newest first, keyset on id. */
  async listDeliveries(
    endpointId: number,
    limit: number,
    beforeId?: number,
  ): Promise<DeliveryRow[]> {
    const rows = await this.txHost.db
      .select({ delivery: webhookDeliveries, eventType: webhookEvents.type })
      .from(webhookDeliveries)
      .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
      .where(
        and(
          eq(webhookDeliveries.endpointId, endpointId),
          beforeId === undefined ? undefined : lt(webhookDeliveries.id, beforeId),
        ),
      )
      .orderBy(desc(webhookDeliveries.id))
      .limit(limit);
    return rows.map((row) => ({ ...row.delivery, eventType: row.eventType }));
  }

  async findDeliveryForUpdate(
    endpointId: number,
    id: number,
  ): Promise<WebhookDelivery | undefined> {
    const [row] = await this.txHost.db
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.endpointId, endpointId), eq(webhookDeliveries.id, id)))
      .for('update');
    return row;
  }

  /** The endpoint a delivery goes to (a job queued before endpoints were held names a delivery). */
  async endpointIdOfDelivery(id: number): Promise<number | undefined> {
    const [row] = await this.txHost.db
      .select({ endpointId: webhookDeliveries.endpointId })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.id, id));
    return row?.endpointId;
  }

  /**
   * Holds the endpoint until `holdUntil` for one attempt, in one statement (so two workers
   * never both get it): only when it is enabled, free (`busy_until` unset or past) and has a
   * delivery due. Returns the endpoint as held, or undefined.
   */
  async holdEndpoint(
    endpointId: number,
    now: Date,
    holdUntil: Date,
  ): Promise<WebhookEndpoint | undefined> {
    const [row] = await this.txHost.db
      .update(webhookEndpoints)
      .set({ busyUntil: holdUntil })
      .where(
        and(
          eq(webhookEndpoints.id, endpointId),
          eq(webhookEndpoints.enabled, true),
          or(isNull(webhookEndpoints.busyUntil), lte(webhookEndpoints.busyUntil, now)),
          exists(
            this.txHost.db
              .select({ one: sql`1` })
              .from(webhookDeliveries)
              .where(dueDeliveryOf(endpointId, now)),
          ),
        ),
      )
      .returning();
    return row;
  }

  /**
   * Ends this worker's hold (`holdUntil` is its token: a hold that lapsed and was taken by
   * another worker is left alone): `busyUntil` is the pause after a failure, or null. Returns
   * false when the hold was no longer this worker's.
   */
  async releaseEndpoint(
    endpointId: number,
    holdUntil: Date,
    values: { busyUntil: Date | null; failureStreak: number },
  ): Promise<boolean> {
    const rows = await this.txHost.db
      .update(webhookEndpoints)
      .set(values)
      .where(and(eq(webhookEndpoints.id, endpointId), eq(webhookEndpoints.busyUntil, holdUntil)))
      .returning({ id: webhookEndpoints.id });
    return rows.length > 0;
  }

  /** The endpoint's pending delivery that fell due first (oldest first on a tie), with what sending it needs. */
  async nextDueDelivery(endpointId: number, now: Date): Promise<DeliveryJobRow | undefined> {
    const [row] = await this.txHost.db
      .select({ delivery: webhookDeliveries, endpoint: webhookEndpoints, event: webhookEvents })
      .from(webhookDeliveries)
      .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
      .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
      .where(dueDeliveryOf(endpointId, now))
      .orderBy(asc(webhookDeliveries.nextAttemptAt), asc(webhookDeliveries.id))
      .limit(1);
    return row;
  }

  /** When the endpoint's next pending delivery falls due (undefined: none pending). */
  async nextDueAt(endpointId: number): Promise<Date | undefined> {
    const [row] = await this.txHost.db
      .select({ at: min(webhookDeliveries.nextAttemptAt) })
      .from(webhookDeliveries)
      .where(
        and(eq(webhookDeliveries.endpointId, endpointId), eq(webhookDeliveries.status, 'pending')),
      );
    return row?.at ?? undefined;
  }

  /**
   * Free, enabled endpoints with a delivery due since before `dueBefore`: their wake-up was
   * lost (a worker died more often than its job is retried).
   */
  async strandedEndpoints(dueBefore: Date, now: Date): Promise<number[]> {
    const rows = await this.txHost.db
      .selectDistinct({ id: webhookDeliveries.endpointId })
      .from(webhookDeliveries)
      .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
      .where(
        and(
          eq(webhookDeliveries.status, 'pending'),
          lte(webhookDeliveries.nextAttemptAt, dueBefore),
          eq(webhookEndpoints.enabled, true),
          or(isNull(webhookEndpoints.busyUntil), lte(webhookEndpoints.busyUntil, now)),
        ),
      );
    return rows.map((row) => row.id);
  }

  /** Back to `pending`, due `now` (a manual redelivery). */
  async requeueDelivery(id: number, now: Date): Promise<void> {
    await this.txHost.db
      .update(webhookDeliveries)
      .set({ status: 'pending', nextAttemptAt: now, updatedAt: now })
      .where(eq(webhookDeliveries.id, id));
  }

  /**
   * Records one attempt, only if the delivery is still pending at `attempts` (another job
   * for the same attempt, e.g. a redelivery racing a scheduled retry, may have recorded it
   * first). Returns false when it did not apply.
   */
  async recordAttempt(
    id: number,
    expectedAttempts: number,
    outcome: AttemptOutcome,
    now: Date,
  ): Promise<boolean> {
    const rows = await this.txHost.db
      .update(webhookDeliveries)
      .set({
        status: outcome.status,
        attempts: sql`${webhookDeliveries.attempts} + 1`,
        lastStatusCode: outcome.statusCode,
        lastError: outcome.error,
        lastResponseExcerpt: outcome.excerpt,
        nextAttemptAt: outcome.nextAttemptAt,
        updatedAt: now,
      })
      .where(
        and(
          eq(webhookDeliveries.id, id),
          eq(webhookDeliveries.status, 'pending'),
          eq(webhookDeliveries.attempts, expectedAttempts),
        ),
      )
      .returning({ id: webhookDeliveries.id });
    return rows.length > 0;
  }

  /** The endpoint's pending deliveries that cannot be sent any more (it was disabled): failed, not retried. */
  async failPendingDeliveries(endpointId: number, error: string, now: Date): Promise<void> {
    await this.txHost.db
      .update(webhookDeliveries)
      .set({ status: 'failed', lastError: error, nextAttemptAt: null, updatedAt: now })
      .where(
        and(eq(webhookDeliveries.endpointId, endpointId), eq(webhookDeliveries.status, 'pending')),
      );
  }
}

/** The endpoint's pending deliveries due at `now` (webhook_deliveries_pending_idx). */
function dueDeliveryOf(endpointId: number, now: Date) {
  return and(
    eq(webhookDeliveries.endpointId, endpointId),
    eq(webhookDeliveries.status, 'pending'),
    lte(webhookDeliveries.nextAttemptAt, now),
  );
}
