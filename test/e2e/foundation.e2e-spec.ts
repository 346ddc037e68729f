import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Body, Controller, Module, Post } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { Public } from '../../src/common/decorators/public.decorator.js';
import { eq, sql } from 'drizzle-orm';
import { setTimeout as sleep } from 'node:timers/promises';
import pg, { type Pool } from 'pg';
import { PG_POOL } from '../../src/database/database.tokens.js';
import { teamMembers, teams, users } from '../../src/database/schema.js';
import { createTestApp, type TestApp } from '../support/app.js';

/** The seed's columns (../shared/seed/schema-reference.txt), as information_schema reports them. */
const EXPECTED_COLUMNS: Record<string, [string, string, number | null, boolean, string | null][]> =
  {
    // [column, data_type, character_maximum_length, is_nullable, column_default (prefix)]
    users: [
      ['id', 'integer', null, false, 'nextval('],
      ['name', 'character varying', 100, true, null],
      ['email', 'character varying', 255, false, null],
      ['password_hash', 'text', null, false, null],
      ['role', 'character varying', 20, false, "'member'"],
      ['created_at', 'timestamp without time zone', null, false, 'now()'],
      ['updated_at', 'timestamp without time zone', null, false, 'now()'],
      ['deleted_at', 'timestamp without time zone', null, true, null],
      // v1.1 (email verification), after the seed's columns.
      ['email_verified_at', 'timestamp without time zone', null, true, null],
      ['pending_email', 'character varying', 255, true, null],
      // v1.1 (two-factor sign-in).
      ['mfa_enabled_at', 'timestamp without time zone', null, true, null],
      // v1.2 (back-office sessions end with the user's API sessions).
      ['session_epoch', 'integer', null, false, '0'],
      // v1.2 (language of mails and messages; accounts from before it: English).
      ['locale', 'character varying', 35, false, "'en'"],
    ],
    teams: [
      ['id', 'integer', null, false, 'nextval('],
      ['name', 'character varying', 100, false, null],
      ['created_at', 'timestamp without time zone', null, false, 'now()'],
      ['updated_at', 'timestamp without time zone', null, false, 'now()'],
      ['stripe_customer_id', 'text', null, true, null],
      ['stripe_subscription_id', 'text', null, true, null],
      ['stripe_product_id', 'text', null, true, null],
      ['plan_name', 'character varying', 50, true, null],
      ['subscription_status', 'character varying', 20, true, null],
      // v1.2 plans, seats and entitlements (migration 0014), after the seed's columns.
      ['cancel_at_period_end', 'boolean', null, false, 'false'],
      ['current_period_end', 'timestamp without time zone', null, true, null],
      ['per_seat', 'boolean', null, false, 'false'],
      ['stripe_subscription_item_id', 'text', null, true, null],
      ['plan_limits', 'jsonb', null, true, null],
      ['plan_override', 'jsonb', null, true, null],
      ['features', 'ARRAY', null, false, "'{}'"],
      ['features_as_of', 'bigint', null, true, null],
      ['membership_version', 'integer', null, false, '0'],
      ['seats_billed', 'integer', null, true, null],
      ['seats_billed_version', 'integer', null, true, null],
    ],
    team_members: [
      ['id', 'integer', null, false, 'nextval('],
      ['user_id', 'integer', null, false, null],
      ['team_id', 'integer', null, false, null],
      ['role', 'character varying', 50, false, null],
      ['joined_at', 'timestamp without time zone', null, false, 'now()'],
    ],
    activity_logs: [
      ['id', 'integer', null, false, 'nextval('],
      ['team_id', 'integer', null, false, null],
      ['user_id', 'integer', null, true, null],
      ['action', 'text', null, false, null],
      ['timestamp', 'timestamp without time zone', null, false, 'now()'],
      ['ip_address', 'character varying', 45, true, null],
      // Back office v2: the reason an admin gave for a support action (disable MFA).
      ['reason', 'character varying', 500, true, null],
    ],
    invitations: [
      ['id', 'integer', null, false, 'nextval('],
      ['team_id', 'integer', null, false, null],
      ['email', 'character varying', 255, false, null],
      ['role', 'character varying', 50, false, null],
      ['invited_by', 'integer', null, false, null],
      ['invited_at', 'timestamp without time zone', null, false, 'now()'],
      ['status', 'character varying', 20, false, "'pending'"],
    ],
  };

const EXPECTED_FOREIGN_KEYS = [
  'activity_logs.team_id -> teams.id',
  'activity_logs.user_id -> users.id',
  'invitations.invited_by -> users.id',
  'invitations.team_id -> teams.id',
  'team_members.team_id -> teams.id',
  'team_members.user_id -> users.id',
];

class ProbeDto {
  @IsString()
  @MaxLength(10)
  name!: string;
}

/** A route that exists only in this test, to observe the global validation pipe. */
// Test-only: not part of the API contract, so not in the OpenAPI document.
@ApiExcludeController()
@Public()
@Controller('probe')
class ProbeController {
  @Post()
  echo(@Body() body: ProbeDto): ProbeDto {
    return body;
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

describe('foundation', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ imports: [ProbeModule] });
  });

  afterAll(async () => {
    await t.close();
  });

  describe('migrated schema', () => {
    it.each(Object.keys(EXPECTED_COLUMNS))(
      '%s matches the seed column by column',
      async (table) => {
        const result = await t.db.execute<{
          column_name: string;
          data_type: string;
          character_maximum_length: number | null;
          is_nullable: 'YES' | 'NO';
          column_default: string | null;
        }>(sql`
        select column_name, data_type, character_maximum_length, is_nullable, column_default
        from information_schema.columns
        where table_schema = 'public' and table_name = ${table}
        order by ordinal_position`);
        const actual = result.rows.map((c) => [
          c.column_name,
          c.data_type,
          c.character_maximum_length,
          c.is_nullable === 'YES',
          c.column_default,
        ]);
        const expected = EXPECTED_COLUMNS[table] ?? [];
        expect(actual.map((c) => c.slice(0, 4))).toEqual(expected.map((c) => c.slice(0, 4)));
        expected.forEach(([name, , , , defaultPrefix], i) => {
          const actualDefault = actual[i]?.[4] as string | null;
          if (defaultPrefix === null)
            expect({ name, default: actualDefault }).toEqual({ name, default: null });
          else
            expect({ name, default: actualDefault?.startsWith(defaultPrefix) }).toEqual({
              name,
              default: true,
            });
        });
      },
    );

    it('has the seed foreign keys and unique columns', async () => {
      const fks = await t.db.execute<{ fk: string }>(sql`
        select kcu.table_name || '.' || kcu.column_name || ' -> ' || ccu.table_name || '.' || ccu.column_name as fk
        from information_schema.table_constraints tc
        join information_schema.key_column_usage kcu on kcu.constraint_name = tc.constraint_name
        join information_schema.constraint_column_usage ccu on ccu.constraint_name = tc.constraint_name
        where tc.constraint_type = 'FOREIGN KEY'
          and tc.table_name in ('users', 'teams', 'team_members', 'activity_logs', 'invitations')
        order by 1`);
      expect(fks.rows.map((r) => r.fk)).toEqual(EXPECTED_FOREIGN_KEYS);

      const uniques = await t.db.execute<{ col: string }>(sql`
        select tc.table_name || '.' || kcu.column_name as col
        from information_schema.table_constraints tc
        join information_schema.key_column_usage kcu on kcu.constraint_name = tc.constraint_name
        where tc.constraint_type = 'UNIQUE' and tc.table_name in ('users', 'teams')
        order by 1`);
      expect(uniques.rows.map((r) => r.col)).toEqual([
        'teams.stripe_customer_id',
        'teams.stripe_subscription_id',
        'users.email',
      ]);
    });

    it('allows one membership per user and team', async () => {
      const [user] = await t.db
        .insert(users)
        .values({ email: `fk-${Date.now()}@example.test`, passwordHash: 'x' })
        .returning();
      const [team] = await t.db.insert(teams).values({ name: 'Uniq' }).returning();
      await t.db.insert(teamMembers).values({ userId: user!.id, teamId: team!.id, role: 'owner' });
      await expect(
        t.db.insert(teamMembers).values({ userId: user!.id, teamId: team!.id, role: 'member' }),
      ).rejects.toThrow();
    });
  });

  it('seeded the demo owner, team and admin into the empty database', async () => {
    const owner = await t.db.query.users.findFirst({
      where: eq(users.email, 'test@test.com'),
      with: { teamMembers: { with: { team: true } } },
    });
    expect(owner?.role).toBe('member');
    expect(owner?.teamMembers.map((m) => [m.role, m.team.name])).toEqual([['owner', 'Test Team']]);
    const admin = await t.db.query.users.findFirst({ where: eq(users.email, 'admin@test.com') });
    expect(admin?.role).toBe('admin');
    expect(admin?.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  describe('health', () => {
    it('GET /health answers 200 without a token', async () => {
      const res = await t.http.get('/health').expect(200);
      expect(res.body).toEqual({ status: 'ok' });
    });

    it('GET /health/ready pings the database', async () => {
      const res = await t.http.get('/health/ready').expect(200);
      expect(res.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
    });

    it('survives the server dropping its idle pooled connections, then serves again', async () => {
      const pool = t.app.get<Pool>(PG_POOL);
      const clients = await Promise.all([pool.connect(), pool.connect()]);
      const pids = await Promise.all(
        clients.map(
          async (c) =>
            (await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid,
        ),
      );
      clients.forEach((c) => c.release());
      const before = pool.totalCount;
      expect(pool.listenerCount('error')).toBe(1); // the app's own listener, nothing of ours
      // Through a pooler (DB_POOLER) the backends are the pooler's server connections: it
      // loses them, and the app's connections (to the pooler) stay open.
      const dropped = t.config.databasePooler === undefined ? pids.length : 0;
      const admin = new pg.Client({
        connectionString: process.env.DATABASE_DIRECT_URL ?? process.env.DATABASE_URL,
      });
      await admin.connect();
      try {
        await admin.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [pids]);
      } finally {
        await admin.end();
      }
      // The idle clients learn of it asynchronously and emit 'error' on the pool, which drops
      // them; without the app's listener that event would crash the process.
      for (let i = 0; i < 100 && pool.totalCount > before - dropped; i++) await sleep(20);
      expect(pool.totalCount).toBe(before - dropped);
      const res = await t.http.get('/health/ready').expect(200);
      expect(res.body.info.database.status).toBe('up');
    });
  });

  describe('errors', () => {
    it('404 for an unknown route, in the API error shape, with a request id header', async () => {
      const res = await t.http.get('/api/v1/does-not-exist').expect(404);
      expect(res.body).toEqual({
        statusCode: 404,
        error: 'Not Found',
        code: 'route.not_found',
        message: 'Cannot GET /api/v1/does-not-exist',
      });
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('echoes a valid incoming X-Request-Id', async () => {
      const res = await t.http.get('/health').set('X-Request-Id', 'abc-123').expect(200);
      expect(res.headers['x-request-id']).toBe('abc-123');
    });

    it('accepts a valid body', async () => {
      const res = await t.http.post('/api/v1/probe').send({ name: 'ok' }).expect(201);
      expect(res.body).toEqual({ name: 'ok' });
    });

    it('400 with details for an invalid body', async () => {
      const res = await t.http
        .post('/api/v1/probe')
        .send({ name: 'far too long a name' })
        .expect(400);
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        code: 'request.invalid',
        message: 'Invalid request',
        details: [
          { field: 'name', message: 'name must be shorter than or equal to 10 characters' },
        ],
      });
    });

    it('400 for unknown fields instead of silently dropping them', async () => {
      const res = await t.http
        .post('/api/v1/probe')
        .send({ name: 'ok', role: 'admin' })
        .expect(400);
      expect(res.body.details).toEqual([
        { field: 'role', message: 'property role should not exist' },
      ]);
    });

    it('400 for malformed JSON', async () => {
      const res = await t.http
        .post('/api/v1/does-not-exist')
        .set('Content-Type', 'application/json')
        .send('{"broken":')
        .expect(400);
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        code: 'request.malformed_json',
        message: 'The request body is not valid JSON',
      });
    });

    it('413 for a JSON body over 100 kB', async () => {
      const res = await t.http
        .post('/api/v1/does-not-exist')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ blob: 'x'.repeat(110 * 1024) }))
        .expect(413);
      expect(res.body).toMatchObject({
        statusCode: 413,
        error: 'Payload Too Large',
        code: 'request.too_large',
      });
    });

    it('sets helmet security headers', async () => {
      const res = await t.http.get('/health').expect(200);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-powered-by']).toBeUndefined();
    });
  });

  describe('swagger', () => {
    it('serves the OpenAPI document with bearer auth and the error schema', async () => {
      const res = await t.http.get('/docs-json').expect(200);
      expect(res.body.openapi).toMatch(/^3\./);
      expect(res.body.components.securitySchemes.bearer).toMatchObject({
        type: 'http',
        scheme: 'bearer',
      });
      expect(Object.keys(res.body.components.schemas)).toContain('ErrorResponseDto');
      expect(Object.keys(res.body.paths)).toEqual(
        expect.arrayContaining(['/health', '/health/ready']),
      );
    });

    it('serves Swagger UI at /docs', async () => {
      const res = await t.http.get('/docs').redirects(1).expect(200);
      expect(res.text).toContain('swagger-ui');
    });
  });
});
