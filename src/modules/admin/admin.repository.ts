import { Injectable } from '@nestjs/common';
import { inArray, sql } from 'drizzle-orm';
import { teams } from '../../database/schema.js';
import { LIVE_STATUSES, PAYING_STATUSES } from '../billing/subscription-status.js';
import { TransactionHost } from '../../database/transaction-host.js';

export interface AdminStats {
  users: number;
  deletedUsers: number;
  admins: number;
  teams: number;
  subscribedTeams: number;
  /**
   * Paying seats: the sum of the per-seat quantity Stripe last confirmed (`seatsBilled`) over
   * teams whose per-seat subscription is being charged (PAYING_STATUSES: active, past_due).
   * What Stripe bills, not the member count: a change not yet confirmed is not counted.
   */
  payingSeats: number;
  pendingInvitations: number;
  activityLast24h: number;
}

/** One UTC day of the dashboard's time series; a day without rows has zeros. */
export interface DailyFigures {
  /** YYYY-MM-DD (UTC). */
  day: string;
  /** Accounts created that day (deleted ones included: they did sign up). */
  signUps: number;
  /** Teams with at least one activity_logs row that day. */
  activeTeams: number;
  /** Invitations sent that day. */
  invitationsSent: number;
  /** Of the invitations sent that day, those accepted since. */
  invitationsAccepted: number;
  /** Webhook deliveries that ended `failed`, by the day of their last attempt. */
  failedDeliveries: number;
}

export interface TeamSegment {
  /** planName or subscriptionStatus; null = none (no subscription yet). */
  key: string | null;
  count: number;
}

export interface DashboardCharts {
  daily: DailyFigures[];
  teamsByPlan: TeamSegment[];
  teamsBySubscriptionStatus: TeamSegment[];
}

export const DASHBOARD_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The first UTC midnight of the window that ends with `now`'s day (DASHBOARD_DAYS days). */
export function dashboardWindow(now: Date): { from: Date; until: Date } {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return { from: new Date(today - (DASHBOARD_DAYS - 1) * DAY_MS), until: new Date(today + DAY_MS) };
}

/**
 * The dashboard's figures: a read model over users, teams, invitations, activity_logs and
 * webhook_deliveries (owned by their modules). It writes nothing; every change the panel makes
 * goes through the owning module's service. Every figure is an aggregate computed by
 * PostgreSQL over an index (see the *_idx comments in schema.ts), never rows loaded here.
 * Timestamps are stored in UTC (`timestamp` without time zone): days are UTC days.
 */
@Injectable()
export class AdminRepository {
  constructor(private readonly txHost: TransactionHost) {}

  /** Dashboard counts in one round trip (`now` bounds the activity window). */
  async stats(now: Date): Promise<AdminStats> {
    const since = new Date(now.getTime() - 24 * 60 * 60 * 1000);
    const result = await this.txHost.db.execute<Record<keyof AdminStats, number>>(sql`
      select
        (select count(*)::int from users where deleted_at is null) as "users",
        (select count(*)::int from users where deleted_at is not null) as "deletedUsers",
        (select count(*)::int from users where deleted_at is null and role = 'admin') as "admins",
        (select count(*)::int from teams) as "teams",
        (select count(*)::int from teams
          where ${inArray(teams.subscriptionStatus, [...LIVE_STATUSES])}) as "subscribedTeams",
        (select coalesce(sum(seats_billed), 0)::int from teams
          where per_seat and ${inArray(teams.subscriptionStatus, [...PAYING_STATUSES])}) as "payingSeats",
        (select count(*)::int from invitations where status = 'pending') as "pendingInvitations",
        (select count(*)::int from activity_logs where "timestamp" >= ${since}) as "activityLast24h"`);
    const row = result.rows[0];
    if (!row) throw new Error('stats query returned no row');
    return row;
  }

  /**
   * The last DASHBOARD_DAYS UTC days up to `now`'s, one row per day (generate_series, so days
   * without rows are zeros), in one statement. Each series is a range scan of its own index.
   */
  async daily(now: Date): Promise<DailyFigures[]> {
    const window = dashboardWindow(now);
    // ISO strings cast to `timestamp`: UTC wall-clock time, whatever the Node process's zone.
    const from = sql`${window.from.toISOString()}::timestamp`;
    const until = sql`${window.until.toISOString()}::timestamp`;
    const result = await this.txHost.db.execute<DailyFigures & Record<string, unknown>>(sql`
      with days as (
        select generate_series(${from}, ${until} - interval '1 day', interval '1 day') as day
      ),
      sign_ups as (
        select date_trunc('day', created_at) as day, count(*)::int as n
          from users where created_at >= ${from} and created_at < ${until} group by 1
      ),
      active_teams as (
        -- DISTINCT (day, team) first: a hash aggregate, where count(distinct) would sort.
        select day, count(*)::int as n from (
          select distinct date_trunc('day', "timestamp") as day, team_id
            from activity_logs where "timestamp" >= ${from} and "timestamp" < ${until}
        ) as team_days group by day
      ),
      invites as (
        select date_trunc('day', invited_at) as day,
               count(*)::int as sent,
               (count(*) filter (where status = 'accepted'))::int as accepted
          from invitations where invited_at >= ${from} and invited_at < ${until} group by 1
      ),
      failed as (
        select date_trunc('day', updated_at) as day, count(*)::int as n
          from webhook_deliveries
         where status = 'failed' and updated_at >= ${from} and updated_at < ${until} group by 1
      )
      select to_char(days.day, 'YYYY-MM-DD') as "day",
             coalesce(sign_ups.n, 0) as "signUps",
             coalesce(active_teams.n, 0) as "activeTeams",
             coalesce(invites.sent, 0) as "invitationsSent",
             coalesce(invites.accepted, 0) as "invitationsAccepted",
             coalesce(failed.n, 0) as "failedDeliveries"
        from days
        left join sign_ups using (day)
        left join active_teams using (day)
        left join invites using (day)
        left join failed using (day)
       order by days.day`);
    return result.rows;
  }

  /** Teams per plan and per subscription status (null = none), from one index-only scan. */
  async teamSegments(): Promise<
    Pick<DashboardCharts, 'teamsByPlan' | 'teamsBySubscriptionStatus'>
  > {
    const result = await this.txHost.db.execute<{
      plan: string | null;
      status: string | null;
      planRow: boolean;
      count: number;
    }>(sql`
      select plan_name as "plan", subscription_status as "status",
             grouping(subscription_status) = 1 as "planRow", count(*)::int as "count"
        from teams
       group by grouping sets ((plan_name), (subscription_status))
       order by count(*) desc, 1, 2`);
    const teamsByPlan: TeamSegment[] = [];
    const teamsBySubscriptionStatus: TeamSegment[] = [];
    for (const row of result.rows) {
      if (row.planRow) teamsByPlan.push({ key: row.plan, count: row.count });
      else teamsBySubscriptionStatus.push({ key: row.status, count: row.count });
    }
    return { teamsByPlan, teamsBySubscriptionStatus };
  }
}
