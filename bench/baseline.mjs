// The benchmark's baseline: the API's hot read routes (and sign-in) written by hand on
// node:http + pg, no framework. It runs exactly the SQL the app runs per request (copied from
// PostgreSQL's statement log; `npm run bench` re-checks that on every run) and verifies the
// same JWT (HS256 pinned, iss/aud, sub + sid) with the same library, so the difference between
// the two servers is what the framework and its layers cost.
//
// Env: PORT, DATABASE_URL, JWT_SECRET, DATABASE_POOL_MAX (default 10).
import { createServer } from 'node:http';
import { createHash, createSecretKey, randomBytes, randomUUID } from 'node:crypto';
import argon2 from 'argon2';
import jwt from 'jsonwebtoken';
import pg from 'pg';

const ISSUER = 'nest-saas';
const AUDIENCE = 'nest-saas-api';
const ACCESS_TTL_SECONDS = Number(process.env.JWT_ACCESS_TTL ?? 900);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const REFRESH_TTL_SECONDS = 30 * 86_400;

const port = Number(process.env.PORT ?? 3100);
const secret = process.env.JWT_SECRET ?? '';
if (secret.length < 32) throw new Error('JWT_SECRET (32+ characters) is required');
// A KeyObject, as the app passes it: a string would be re-parsed as a PEM key on every call.
const key = createSecretKey(Buffer.from(secret));

// `timestamp without time zone` holds UTC (the app reads it the same way).
const utc = (value) => new Date(`${value}+0000`);
pg.types.setTypeParser(pg.types.builtins.TIMESTAMP, utc);

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DATABASE_POOL_MAX ?? 10),
  application_name: 'nest-saas-baseline',
  options: '-c timezone=UTC',
});
pool.on('error', () => undefined);

/**
 * Rows as arrays, like Drizzle asks the driver for (and joined columns may share a name).
 * `name`: a named prepared statement, where the app prepares the query too.
 */
function query(text, values, name) {
  return pool.query({ text, values, rowMode: 'array', name });
}

/** The statements, verbatim from the app's statement log (npm run bench compares them). */
export const SQL = {
  ready: 'select 1',
  session: `select "users"."id", "users"."email", "users"."name", "users"."role", "users"."email_verified_at" is not null, "sessions"."id", "sessions"."last_used_at" from "sessions" inner join "users" on "users"."id" = "sessions"."user_id" where ("sessions"."id" = $1 and "sessions"."user_id" = $2 and "sessions"."revoked_at" is null and "sessions"."expires_at" > $3 and "users"."deleted_at" is null) limit $4`,
  /** On team routes: the principal and the caller's membership in the route's team, one query. */
  sessionInTeam: `select "users"."id", "users"."email", "users"."name", "users"."role", "users"."email_verified_at" is not null, "sessions"."id", "sessions"."last_used_at", "team_members"."id", "team_members"."team_id", "team_members"."user_id", "team_members"."role", "team_members"."joined_at" from "sessions" inner join "users" on "users"."id" = "sessions"."user_id" left join "team_members" on ("team_members"."team_id" = $1 and "team_members"."user_id" = "users"."id") where ("sessions"."id" = $2 and "sessions"."user_id" = $3 and "sessions"."revoked_at" is null and "sessions"."expires_at" > $4 and "users"."deleted_at" is null) limit $5`,
  membership: `select "id", "team_id", "user_id", "role", "joined_at" from "team_members" where ("team_members"."team_id" = $1 and "team_members"."user_id" = $2)`,
  teamForUpdate: `select "id", "name", "created_at", "updated_at", "stripe_customer_id", "stripe_subscription_id", "stripe_product_id", "plan_name", "subscription_status" from "teams" where "teams"."id" = $1 for update`,
  renameTeam: `update "teams" set "name" = $1, "updated_at" = $2 where "teams"."id" = $3 returning "id"`,
  insertActivity: `insert into "activity_logs" ("id", "team_id", "user_id", "action", "timestamp", "ip_address", "reason") values (default, $1, $2, $3, default, $4, $5) returning "id", "team_id", "user_id", "action", "timestamp", "ip_address", "reason"`,
  webhookEndpoints: `select "id", "team_id", "url", "description", "events", "secret", "previous_secret", "previous_secret_expires_at", "enabled", "created_at", "updated_at" from "webhook_endpoints" where ("webhook_endpoints"."team_id" = $1 and "webhook_endpoints"."enabled" = $2 and "webhook_endpoints"."events" @> $3)`,
  teamWithMembers: `select "id", "name", "created_at", "updated_at", "stripe_customer_id", "stripe_subscription_id", "stripe_product_id", "plan_name", "subscription_status", coalesce((select json_agg(json_build_array(m.id, m.team_id, m.user_id, m.role, m.joined_at, u.name, u.email) order by m.joined_at asc, m.id asc) from team_members m inner join users u on u.id = m.user_id where m.team_id = teams.id), '[]'::json) from "teams" where "teams"."id" = $1`,
  activity: `select "activity_logs"."id", "activity_logs"."action", "activity_logs"."timestamp", "activity_logs"."ip_address", "activity_logs"."team_id", "activity_logs"."user_id", "users"."name", "users"."email", to_char("activity_logs"."timestamp", 'YYYY-MM-DD"T"HH24:MI:SS.US') from "activity_logs" left join "users" on "users"."id" = "activity_logs"."user_id" where ("activity_logs"."team_id" = $1 and ("activity_logs"."timestamp", "activity_logs"."id") < ($2::timestamp, $3::integer)) order by "activity_logs"."timestamp" desc, "activity_logs"."id" desc limit $4`,
  activityFirst: `select "activity_logs"."id", "activity_logs"."action", "activity_logs"."timestamp", "activity_logs"."ip_address", "activity_logs"."team_id", "activity_logs"."user_id", "users"."name", "users"."email", to_char("activity_logs"."timestamp", 'YYYY-MM-DD"T"HH24:MI:SS.US') from "activity_logs" left join "users" on "users"."id" = "activity_logs"."user_id" where "activity_logs"."team_id" = $1 order by "activity_logs"."timestamp" desc, "activity_logs"."id" desc limit $2`,
  me: `select "id", "name", "email", "password_hash", "role", "created_at", "updated_at", "deleted_at", "email_verified_at", "pending_email", "mfa_enabled_at" from "users" where ("users"."id" = $1 and "users"."deleted_at" is null) limit $2`,
  memberships: `select "team_members"."team_id", "teams"."name", "team_members"."role", "team_members"."joined_at" from "team_members" inner join "teams" on "teams"."id" = "team_members"."team_id" where "team_members"."user_id" = $1 order by "team_members"."joined_at" asc, "team_members"."id" asc`,
  userByEmail: `select "id", "name", "email", "password_hash", "role", "created_at", "updated_at", "deleted_at", "email_verified_at", "pending_email", "mfa_enabled_at" from "users" where ("users"."email" = $1 and "users"."deleted_at" is null) limit $2`,
  insertSession: `insert into "sessions" ("id", "user_id", "refresh_token_hash", "created_at", "last_refreshed_at", "expires_at", "revoked_at", "revoked_reason", "user_agent", "ip_address", "last_used_at") values ($1, $2, $3, $4, $5, $6, default, default, $7, $8, $9) returning "id", "user_id", "refresh_token_hash", "created_at", "last_refreshed_at", "expires_at", "revoked_at", "revoked_reason", "user_agent", "ip_address", "last_used_at"`,
  firstTeam: `select "team_id" from "team_members" where "team_members"."user_id" = $1 order by "team_members"."joined_at" asc, "team_members"."id" asc limit $2`,
};

class HttpError extends Error {
  constructor(status, error, code, message) {
    super(message);
    this.status = status;
    this.body = { statusCode: status, error, code, message };
  }
}
const unauthorized = () =>
  new HttpError(401, 'Unauthorized', 'auth.unauthorized', 'Missing, invalid or revoked token');
const notFound = () => new HttpError(404, 'Not Found', 'team.not_found', 'Team not found');
const badRequest = (message) => new HttpError(400, 'Bad Request', 'request.invalid', message);

/**
 * Same checks as the app's guard: signature (HS256 only), iss, aud, exp, then the session row;
 * with `teamId` (team routes) the caller's membership in it comes with the same query.
 */
async function authenticate(req, teamId) {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) throw unauthorized();
  let claims;
  try {
    claims = jwt.verify(header.slice(7), key, {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
    });
  } catch {
    throw unauthorized();
  }
  const { sub, sid } = claims;
  if (typeof sub !== 'string' || !/^[1-9]\d{0,9}$/.test(sub) || Number(sub) > 2_147_483_647) {
    throw unauthorized();
  }
  if (typeof sid !== 'string' || !UUID.test(sid)) throw unauthorized();
  const now = new Date().toISOString();
  const { rows } =
    teamId === undefined
      ? await query(
          SQL.session,
          [sid.toLowerCase(), Number(sub), now, 1],
          'sessions_find_principal',
        )
      : await query(
          SQL.sessionInTeam,
          [teamId, sid.toLowerCase(), Number(sub), now, 1],
          'sessions_find_principal_in_team',
        );
  const row = rows[0];
  if (!row) throw unauthorized();
  const [id, email, name, role, emailVerified, sessionId] = row;
  const membership =
    teamId === undefined || row[7] === null
      ? null
      : { id: row[7], teamId: row[8], userId: row[9], role: row[10], joinedAt: row[11] };
  return { id, email, name, role, emailVerified, sessionId, membership };
}

function parseId(raw, name) {
  if (!/^[1-9]\d{0,9}$/.test(raw) || Number(raw) > 2_147_483_647) {
    throw badRequest(`${name} must be a positive integer`);
  }
  return Number(raw);
}

async function getTeam(auth, teamId) {
  if (!auth.membership) throw notFound();
  return teamDetail(teamId);
}

async function teamDetail(teamId) {
  const { rows } = await query(SQL.teamWithMembers, [teamId], 'teams_find_with_members');
  const t = rows[0];
  if (!t) throw notFound();
  return {
    id: t[0],
    name: t[1],
    createdAt: t[2],
    updatedAt: t[3],
    stripeCustomerId: t[4],
    stripeSubscriptionId: t[5],
    stripeProductId: t[6],
    planName: t[7],
    subscriptionStatus: t[8],
    teamMembers: t[9].map(([id, teamId, userId, role, joinedAt, name, email]) => ({
      id,
      teamId,
      userId,
      role,
      joinedAt: utc(joinedAt),
      user: { id: userId, name, email },
    })),
  };
}

// The app's feed cursor: base64url of "<timestamp with 6 fractional digits>|<id>".
const EXACT_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;
function decodeCursor(raw) {
  const parts = Buffer.from(raw, 'base64url').toString('utf8').split('|');
  const [at, id] = parts;
  if (
    parts.length !== 2 ||
    !EXACT_TIMESTAMP.test(at ?? '') ||
    Number.isNaN(new Date(`${at}Z`).getTime()) ||
    !/^[1-9]\d{0,9}$/.test(id ?? '') ||
    Number(id) > 2_147_483_647
  ) {
    throw badRequest('Invalid cursor');
  }
  return { at, id: Number(id) };
}

const forbiddenUnlessOwner = (m) => {
  if (m.role !== 'owner') {
    throw new HttpError(
      403,
      'Forbidden',
      'team.forbidden',
      'This action requires the team role "owner"',
    );
  }
};

/** Runs `work` in one transaction on one pooled client; `inTx` queries in array row mode. */
async function transaction(work) {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await work((text, values) => client.query({ text, values, rowMode: 'array' }));
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * PATCH /teams/:teamId: the rename and its UPDATE_TEAM row in one transaction (the team row
 * locked, the membership re-read inside it, the team's webhook subscriptions looked up), then
 * the team as GET returns it.
 */
async function renameTeam(auth, teamId, body, ip) {
  if (!auth.membership) throw notFound();
  forbiddenUnlessOwner(auth.membership);
  const keys = body && typeof body === 'object' ? Object.keys(body) : [];
  const name = typeof body?.name === 'string' ? body.name.trim() : '';
  if (keys.length !== 1 || !name || name.length > 100) throw badRequest('Invalid body');
  await transaction(async (inTx) => {
    const team = await inTx(SQL.teamForUpdate, [teamId]);
    const m = await inTx(SQL.membership, [teamId, auth.id]);
    if (!team.rows[0] || !m.rows[0]) throw notFound();
    if (team.rows[0][1] !== name) {
      await inTx(SQL.renameTeam, [name, new Date().toISOString(), teamId]);
      await inTx(SQL.insertActivity, [teamId, auth.id, 'UPDATE_TEAM', ip, null]);
      await inTx(SQL.webhookEndpoints, [teamId, true, ['team.updated']]);
    }
  });
  return teamDetail(teamId);
}

async function getActivity(auth, teamId, params) {
  const m = auth.membership;
  if (!m) throw notFound();
  forbiddenUnlessOwner(m);
  const limit = params.has('limit') ? Number(params.get('limit')) : 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    throw badRequest('limit must be 1..100');
  const cursor = params.has('cursor') ? decodeCursor(params.get('cursor')) : undefined;
  const { rows } = cursor
    ? await query(SQL.activity, [teamId, cursor.at, cursor.id, limit + 1], 'audit_team_feed_after')
    : await query(SQL.activityFirst, [teamId, limit + 1], 'audit_team_feed_first');
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items: items.map(([id, action, timestamp, ipAddress, _teamId, userId, name, email]) => ({
      id,
      action,
      timestamp,
      ipAddress,
      userId,
      user: userId === null || email === null ? null : { id: userId, name, email },
    })),
    nextCursor:
      rows.length > limit && last
        ? Buffer.from(`${last[8]}|${last[0]}`).toString('base64url')
        : null,
  };
}

// users row: id, name, email, password_hash, role, created_at, updated_at, deleted_at,
// email_verified_at, pending_email
function userDto(u) {
  return {
    id: u[0],
    name: u[1],
    email: u[2],
    role: u[4],
    createdAt: u[5],
    updatedAt: u[6],
    emailVerified: u[8] !== null,
    pendingEmail: u[9],
    mfaEnabled: u[10] !== null,
  };
}

async function getMe(auth) {
  const [{ rows: users }, { rows: memberships }] = await Promise.all([
    query(SQL.me, [auth.id, 1], 'users_find_active_by_id'),
    query(SQL.memberships, [auth.id], 'users_memberships'),
  ]);
  const u = users[0];
  if (!u) throw unauthorized();
  return {
    ...userDto(u),
    memberships: memberships.map(([teamId, teamName, role]) => ({ teamId, teamName, role })),
  };
}

// Sign-in with the app's cost profile: lookup, argon2 verify behind the same 2-slot gate, a new
// session, an activity row, a signed access token.
let active = 0;
const waiting = [];
async function gated(task) {
  if (active >= 2) await new Promise((resolve) => waiting.push(resolve));
  active++;
  try {
    return await task();
  } finally {
    active--;
    waiting.shift()?.();
  }
}

async function signIn(body, ip, userAgent) {
  const email = typeof body?.email === 'string' ? body.email.trim().toLowerCase() : '';
  const password = typeof body?.password === 'string' ? body.password : '';
  if (!email || password.length < 8 || password.length > 128) throw badRequest('Invalid body');
  const { rows } = await query(SQL.userByEmail, [email, 1]);
  const user = rows[0];
  const ok = user ? await gated(() => argon2.verify(user[3], password).catch(() => false)) : false;
  if (!user || !ok) {
    throw new HttpError(
      401,
      'Unauthorized',
      'auth.invalid_credentials',
      'Invalid email or password',
    );
  }
  const [userId] = user;
  const sessionId = randomUUID();
  const secretPart = randomBytes(32).toString('base64url');
  const now = new Date();
  await transaction(async (inTx) => {
    await inTx(SQL.insertSession, [
      sessionId,
      userId,
      createHash('sha256').update(secretPart).digest('hex'),
      now,
      now,
      new Date(now.getTime() + REFRESH_TTL_SECONDS * 1000),
      userAgent?.slice(0, 500) ?? null,
      ip,
      now,
    ]);
    const team = await inTx(SQL.firstTeam, [userId, 1]);
    const teamId = team.rows[0]?.[0];
    if (teamId !== undefined) {
      await inTx(SQL.insertActivity, [teamId, userId, 'SIGN_IN', ip, null]);
    }
  });
  const accessToken = jwt.sign({ sid: sessionId }, key, {
    algorithm: 'HS256',
    subject: String(userId),
    issuer: ISSUER,
    audience: AUDIENCE,
    expiresIn: ACCESS_TTL_SECONDS,
  });
  return {
    accessToken,
    refreshToken: `${sessionId}.${secretPart}`,
    tokenType: 'Bearer',
    expiresIn: ACCESS_TTL_SECONDS,
    user: userDto(user),
  };
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > 100 * 1024) {
        reject(new HttpError(413, 'Payload Too Large', 'request.too_large', 'Body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(badRequest('Body is not valid JSON'));
      }
    });
    req.on('error', reject);
  });
}

const TEAM = /^\/api\/v1\/teams\/([^/]+)$/;
const ACTIVITY = /^\/api\/v1\/teams\/([^/]+)\/activity$/;

async function route(req) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  if (req.method === 'GET') {
    if (path === '/health/ready') {
      await pool.query(SQL.ready);
      return [200, { status: 'ok', info: { database: { status: 'up' } } }];
    }
    if (path === '/api/v1/users/me') return [200, await getMe(await authenticate(req))];
    let match = TEAM.exec(path);
    if (match) {
      const teamId = parseId(match[1], 'teamId');
      return [200, await getTeam(await authenticate(req, teamId), teamId)];
    }
    match = ACTIVITY.exec(path);
    if (match) {
      const teamId = parseId(match[1], 'teamId');
      const auth = await authenticate(req, teamId);
      return [200, await getActivity(auth, teamId, url.searchParams)];
    }
  }
  if (req.method === 'PATCH') {
    const match = TEAM.exec(path);
    if (match) {
      const teamId = parseId(match[1], 'teamId');
      const auth = await authenticate(req, teamId);
      const ip = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? null;
      return [200, await renameTeam(auth, teamId, await readJson(req), ip)];
    }
  }
  if (req.method === 'POST' && path === '/api/v1/auth/sign-in') {
    const ip = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? null;
    return [200, await signIn(await readJson(req), ip, req.headers['user-agent'])];
  }
  throw new HttpError(404, 'Not Found', 'request.not_found', `Cannot ${req.method} ${path}`);
}

const server = createServer((req, res) => {
  route(req).then(
    ([status, body]) => send(res, status, body),
    (error) => {
      if (error instanceof HttpError) return send(res, error.status, error.body);
      process.stderr.write(`baseline: ${error instanceof Error ? error.stack : String(error)}\n`);
      send(res, 500, {
        statusCode: 500,
        error: 'Internal Server Error',
        message: 'Internal error',
      });
    },
  );
});

function send(res, status, body) {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}

server.keepAliveTimeout = 5_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`baseline listening on ${port}\n`));

const stop = () => {
  server.close(() => void pool.end().then(() => process.exit(0)));
  server.closeAllConnections();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
