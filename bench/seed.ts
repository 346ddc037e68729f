import type pg from 'pg';

/** Size of the seeded data set; the formulas below derive every row from these numbers. */
export interface SeedShape {
  users: number;
  teams: number;
  activity: number;
  /** Activity rows that belong to team 1, the "large team" whose feed is paged deep. */
  bigTeamActivity: number;
  sessions: number;
}

export const DEFAULT_SHAPE: SeedShape = {
  users: 10_000,
  teams: 1_000,
  activity: 200_000,
  bigTeamActivity: 40_000,
  sessions: 20_000,
};

export const BENCH_PASSWORD = 'bench-password-1';

export function benchEmail(userId: number): string {
  return `user${userId}@bench.test`;
}

/**
 * Fills an empty, migrated database in one transaction with set-based SQL (generate_series):
 * teams of 5..20 members (size = 5 + (7·t mod 16)), member k of team t is user
 * 1 + ((37·t + 997·k) mod users) (distinct within a team), k = 1 is the owner. Every user
 * shares one real argon2 hash of BENCH_PASSWORD, so any of them can sign in.
 * Activity rows come in pairs sharing a timestamp, so keyset cursors must break ties by id.
 */
export async function seedBenchData(
  client: pg.ClientBase,
  passwordHash: string,
  shape: SeedShape = DEFAULT_SHAPE,
): Promise<void> {
  const size = (t: string): string => `(5 + ((${t}) * 7) % 16)`;
  const member = (t: string, k: string): string =>
    `(1 + (((${t}) * 37 + (${k}) * 997) % ${shape.users}))`;
  const actions = `(array['SIGN_UP','SIGN_IN','SIGN_OUT','UPDATE_PASSWORD','UPDATE_ACCOUNT','CREATE_TEAM','REMOVE_TEAM_MEMBER','INVITE_TEAM_MEMBER','ACCEPT_INVITATION','SIGN_IN'])`;
  const otherTeams = shape.teams - 1;

  await client.query('begin');
  try {
    await client.query('set local synchronous_commit = off');
    await client.query(
      `insert into users (id, email, name, password_hash, role, created_at, updated_at)
       select g, 'user' || g || '@bench.test', 'Bench User ' || g, $1,
              case when g % 500 = 0 then 'admin' else 'member' end,
              timestamp '2025-01-01' + g * interval '1 minute',
              timestamp '2025-01-01' + g * interval '1 minute'
       from generate_series(1, ${shape.users}) g`,
      [passwordHash],
    );
    await client.query(
      `insert into teams (id, name, created_at, updated_at, stripe_customer_id,
                          stripe_subscription_id, stripe_product_id, plan_name, subscription_status)
       select g, 'Bench Team ' || g,
              timestamp '2025-01-01' + g * interval '1 hour',
              timestamp '2025-06-01' + g * interval '1 hour',
              case when g % 3 = 0 then 'cus_bench' || g end,
              case when g % 3 = 0 then 'sub_bench' || g end,
              case when g % 3 = 0 then 'prod_pro' end,
              case when g % 3 = 0 then 'Pro' end,
              case when g % 3 = 0 then 'active' end
       from generate_series(1, ${shape.teams}) g`,
    );
    await client.query(
      `insert into team_members (team_id, user_id, role, joined_at)
       select t, ${member('t', 'k')},
              case when k = 1 or (k = 2 and t % 4 = 0) then 'owner' else 'member' end,
              timestamp '2025-01-01' + t * interval '1 hour' + k * interval '1 minute'
       from generate_series(1, ${shape.teams}) t,
            generate_series(1, ${size('t')}) k
       order by t, k`,
    );
    // Team 1 gets bigTeamActivity rows, the others share the rest; the acting user is a member.
    await client.query(
      `insert into activity_logs (team_id, user_id, action, "timestamp", ip_address)
       select team_id, ${member('team_id', `1 + (i % ${size('team_id')})`)},
              ${actions}[1 + (i % 10)],
              timestamp '2026-06-01' - (i / 2) * interval '13 seconds',
              '10.' || (i % 250) || '.' || ((i / 250) % 250) || '.' || (1 + i % 200)
       from (select i, case when i <= ${shape.bigTeamActivity} then 1
                            else 2 + (i % ${otherTeams}) end as team_id
             from generate_series(1, ${shape.activity}) i) s`,
    );
    await client.query(
      `insert into sessions (user_id, refresh_token_hash, created_at, last_refreshed_at,
                             expires_at, revoked_at, revoked_reason, user_agent, ip_address)
       select 1 + (g % ${shape.users}), md5('bench-refresh-' || g),
              now() - interval '1 day', now() - interval '1 hour', now() + interval '29 days',
              case when g % 5 = 0 then now() - interval '2 hours' end,
              case when g % 5 = 0 then 'sign_out' end,
              'bench/1.0', '127.0.0.1'
       from generate_series(1, ${shape.sessions}) g`,
    );
    for (const table of ['users', 'teams', 'team_members', 'activity_logs']) {
      await client.query(
        `select setval(pg_get_serial_sequence('${table}', 'id'), (select max(id) from ${table}))`,
      );
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
  await client.query('analyze');
}
