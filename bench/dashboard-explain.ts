// `npx tsx bench/dashboard-explain.ts`: the back-office dashboard's aggregate queries on a
// seeded data set (200k users, 50k teams, 1M activity rows, 200k invitations, 300k webhook
// deliveries), each followed by its EXPLAIN ANALYZE. Every time series must be an index range
// scan (Index Only Scan after VACUUM) on the index named in schema.ts, never a sequential scan
// of the table. Uses a throw-away database on BENCH_ADMIN_URL (default: local PostgreSQL).
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { migrateDatabase } from '../src/boot/database.js';
import { AdminRepository } from '../src/modules/admin/admin.repository.js';

const serverUrl = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = `nest_saas_dashboard_explain_${Date.now()}`;
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`create database "${database}"`);
const url = new URL(serverUrl);
url.pathname = `/${database}`;
try {
  await migrateDatabase(url.toString(), 'pgboss');
  const pool = new pg.Pool({ connectionString: url.toString(), options: '-c timezone=UTC' });
  await pool.query(`
    insert into users (email, password_hash, created_at)
      select 'u' || n || '@x.test', 'h',
             now() - (n % 400) * interval '1 day' - (n % 1440) * interval '1 minute'
        from generate_series(1, 200000) n;
    insert into teams (name, plan_name, subscription_status)
      select 't' || n, (array['Base', 'Plus', 'Pro', null])[1 + n % 4],
             (array['active', 'trialing', 'canceled', null])[1 + n % 4]
        from generate_series(1, 50000) n;
    insert into activity_logs (team_id, user_id, action, "timestamp")
      select 1 + n % 50000, 1 + n % 200000, 'SIGN_IN', now() - (n % 365) * interval '1 day'
        from generate_series(1, 1000000) n;
    insert into invitations (team_id, email, role, invited_by, invited_at, status)
      select 1 + n % 50000, 'i' || n || '@x.test', 'member', 1,
             now() - (n % 365) * interval '1 day',
             (array['accepted', 'revoked', 'expired', 'declined'])[1 + n % 4]
        from generate_series(1, 200000) n;
    insert into webhook_endpoints (team_id, url, events, secret)
      values (1, 'https://x.test', '{a}', 's');
    insert into webhook_events (id, team_id, type, payload) values ('evt_1', 1, 'a', '{}');
    insert into webhook_deliveries (endpoint_id, event_id, status, updated_at)
      select 1, 'evt_1', (array['succeeded', 'succeeded', 'succeeded', 'failed'])[1 + n % 4],
             now() - (n % 365) * interval '1 day'
        from generate_series(1, 300000) n;`);
  await pool.query('vacuum analyze');
  const captured: { query: string; params: unknown[] }[] = [];
  const db = drizzle({
    client: pool,
    logger: { logQuery: (query, params) => captured.push({ query, params }) },
  });
  const repository = new AdminRepository({ db } as never);
  await repository.daily(new Date());
  await repository.teamSegments();
  for (const { query, params } of captured) {
    const plan = await pool.query<{ 'QUERY PLAN': string }>(
      `explain (analyze, costs off) ${query}`,
      params,
    );
    const lines = plan.rows.map((row) => row['QUERY PLAN']);
    process.stdout.write(`${lines.join('\n')}\n\n`);
    const seqScans = lines.filter((line) => /Seq Scan/.test(line));
    if (seqScans.length > 0) {
      process.stderr.write(`sequential scan in a dashboard query:\n${seqScans.join('\n')}\n`);
      process.exitCode = 1;
    }
  }
  await pool.end();
} finally {
  await admin.query(`drop database if exists "${database}" with (force)`);
  await admin.end();
}
