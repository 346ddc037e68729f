import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import {
  FAKE_STRIPE_SECRET_KEY,
  startFakeStripe,
  type FakeStripe,
} from '../support/fake-stripe.js';

const run = promisify(execFile);
const adminUrl = process.env.NEST_SAAS_TEST_ADMIN_URL!;

async function sql<T = Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

/** `npm run db:seed` as a user runs it: the CLI in its own process, configured by environment. */
describe('db:seed CLI', () => {
  const database = `nest_saas_seed_${Date.now()}`;
  let url: string;
  let stripe: FakeStripe;

  const seed = (env: Record<string, string>) =>
    run(process.execPath, ['--import', 'tsx', 'src/cli/seed.ts'], {
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'development',
        LOG_LEVEL: 'warn',
        DATABASE_URL: url,
        ...env,
      },
      timeout: 60_000,
    });

  beforeAll(async () => {
    await sql(adminUrl, `create database "${database}"`);
    const u = new URL(adminUrl);
    u.pathname = `/${database}`;
    url = u.toString();
    stripe = await startFakeStripe();
  });

  afterAll(async () => {
    await stripe.close();
    await sql(adminUrl, `drop database if exists "${database}" with (force)`);
  });

  it('migrates, seeds the demo team, admin and support user, and creates the demo Stripe products once', async () => {
    const env = { STRIPE_SECRET_KEY: FAKE_STRIPE_SECRET_KEY, STRIPE_API_URL: stripe.url };
    const first = await seed(env);
    expect(first.stdout).toContain('seeded demo data');
    expect(first.stdout).toContain('created in Stripe');

    const members = await sql(
      url,
      `select u.email, u.role as system_role, u.email_verified_at is not null as verified, m.role, t.name
       from users u left join team_members m on m.user_id = u.id left join teams t on t.id = m.team_id
       order by u.email`,
    );
    // The demo accounts are verified, so they also work with EMAIL_VERIFICATION=required.
    expect(members).toEqual([
      { email: 'admin@test.com', system_role: 'admin', verified: true, role: null, name: null },
      { email: 'support@test.com', system_role: 'support', verified: true, role: null, name: null },
      {
        email: 'test@test.com',
        system_role: 'member',
        verified: true,
        role: 'owner',
        name: 'Test Team',
      },
    ]);

    const plans = [...stripe.prices.values()]
      .map((p) => {
        const product = stripe.products.get(p.product as string);
        const recurring = p.recurring as { interval: string };
        const metadata = p.metadata as Record<string, string>;
        return [product?.name, p.unit_amount, p.currency, recurring.interval, metadata.trial_days];
      })
      .sort();
    expect(plans).toEqual([
      ['Base', 800, 'usd', 'month', '7'],
      ['Plus', 1200, 'usd', 'month', '7'],
    ]);

    const second = await seed(env);
    expect(second.stdout).toContain('database already has users');
    expect(second.stdout).toContain('demo Stripe products already exist');
    expect(stripe.products.size).toBe(2);
    expect(stripe.prices.size).toBe(2);
  });

  it('refuses to seed demo data in production', async () => {
    await expect(
      seed({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining('refuses to seed demo data with NODE_ENV=production'),
    });
  });
});
