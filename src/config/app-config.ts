import { hkdfSync, randomBytes } from 'node:crypto';
import { ConfigValidationError } from './config-error.js';
import { loadDnsConfig, type DnsConfig } from './dns-config.js';
import { loadOidcConfig, type OidcConfig } from './oidc-config.js';

export { ConfigValidationError };

export type NodeEnv = 'development' | 'production' | 'test';
/** `required`: an unverified user's token only reaches the few routes that let them verify. */
export type EmailVerificationMode = 'optional' | 'required';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
/** LOG_FORMAT: one JSON object per line (for log collectors), or lines a person reads. */
export type LogFormat = 'json' | 'pretty';
/** DB_POOLER: what sits between DATABASE_URL and PostgreSQL (unset: nothing, a direct connection). */
export type DatabasePooler = 'transaction';

/**
 * The validated, typed configuration. Injected by class token, built once at boot by
 * `loadConfig` from the environment; nothing outside src/config reads process.env.
 */
export abstract class AppConfig {
  declare readonly nodeEnv: NodeEnv;
  declare readonly port: number;
  /** Unset: an embedded PostgreSQL under `embeddedDataDir` is started. */
  declare readonly databaseUrl: string | undefined;
  /**
   * DATABASE_DIRECT_URL (default DATABASE_URL): straight to PostgreSQL, for the boot edge
   * (migrations and their lock, seeding, the CLIs) and the job queue's own pool (fetching,
   * maintenance, cron, its set-up lock): long or lock-holding work that should neither take
   * nor wait for a pooler's server connections. Unset with DATABASE_URL unset: the embedded
   * server's URL (the boot edge fills it in).
   */
  declare readonly databaseDirectUrl: string | undefined;
  /**
   * DB_POOLER=transaction: DATABASE_URL goes through a transaction-mode pooler (PgBouncer,
   * Supavisor, RDS Proxy), so consecutive transactions of one client connection may run on
   * different server sessions: the app's pool then uses no named prepared statement, no
   * session setting and no session advisory lock (see createPool).
   */
  declare readonly databasePooler: DatabasePooler | undefined;
  /**
   * What sits in front of `databaseDirectUrl`: DB_POOLER when DATABASE_DIRECT_URL is unset
   * (it is then DATABASE_URL itself), else nothing.
   */
  declare readonly databaseDirectPooler: DatabasePooler | undefined;
  declare readonly databasePoolMax: number;
  /**
   * Longest a query may run (server-side `statement_timeout`), a query may wait for an answer
   * (client side, for a server that stopped answering) and a request may wait for a pooled or
   * new connection. Past it the request answers 503 `service.unavailable`.
   */
  declare readonly databaseStatementTimeoutMs: number;
  declare readonly embedded: { readonly dataDir: string; readonly port: number | undefined };
  declare readonly jwt: {
    readonly secret: string;
    /** True when JWT_SECRET was unset and a random per-process key is in use. */
    readonly generated: boolean;
    readonly issuer: string;
    readonly audience: string;
    readonly accessTtlSeconds: number;
    readonly refreshTtlSeconds: number;
  };
  declare readonly appUrl: string;
  /**
   * API_URL: the public base URL browsers reach this API on (OpenID Connect redirect URIs are
   * `<apiUrl>/api/v1/auth/oidc/<id>/callback`). Unset: APP_URL, as for the billing redirects
   * (the deployment serves /api/v1 on the frontend's origin).
   */
  declare readonly apiUrl: string;
  /** OpenID Connect sign-in providers (OIDC_PROVIDERS, OIDC_<ID>_*); none when unset. */
  declare readonly oidc: OidcConfig;
  /**
   * EMAIL_VERIFICATION. Either way an address counts as the user's (invitations) only once
   * verified; `required` also confines unverified users to GET /users/me,
   * POST /auth/verify-email/resend and POST /auth/sign-out.
   */
  declare readonly emailVerification: EmailVerificationMode;
  /**
   * Browser origins (`scheme://host[:port]`) allowed to call the API cross-origin (CORS_ORIGINS).
   * Unset: APP_URL's origin outside production, none in production.
   */
  declare readonly corsOrigins: readonly string[];
  declare readonly stripe: {
    readonly secretKey: string | undefined;
    readonly webhookSecret: string | undefined;
    readonly apiUrl: URL | undefined;
  };
  declare readonly mail: { readonly smtpUrl: string | undefined; readonly from: string };
  declare readonly redisUrl: string | undefined;
  /**
   * Attempts allowed per window for sign-up, password reset and the signed-in password checks
   * (password change, account deletion), counted separately per action, per client IP and per
   * account (`perEmail`: per email address, or per signed-in user) (REDIS_URL storage when
   * set). Password sign-in counts failures: `perIp` per client IP and `perEmail` per IP +
   * address refuse (429); past `perEmail` failures from anywhere an address is only slowed
   * down, by at most `slowdownMaxMs` per attempt (0: never). The public token routes allow
   * `tokenPerIp` requests per client IP each. With NODE_ENV=development the count defaults
   * are 10x higher (300, 100, 600).
   */
  declare readonly rateLimit: {
    readonly windowSeconds: number;
    readonly perIp: number;
    readonly perEmail: number;
    readonly tokenPerIp: number;
    readonly slowdownMaxMs: number;
  };
  /**
   * Invitation mails allowed per window (API.md v1.2), counted per inviter (the signed-in
   * user, or a team API key's creator) across their teams, per team across its inviters, and
   * per recipient address across teams; re-invitations count like new ones. Past a limit the
   * invitation is refused with 429 and Retry-After (REDIS_URL storage when set).
   * INVITATION_RATE_LIMIT_WINDOW (seconds, default 3600), INVITATION_RATE_LIMIT_PER_INVITER
   * (default 20), INVITATION_RATE_LIMIT_PER_TEAM (default 50), INVITATION_RATE_LIMIT_PER_RECIPIENT
   * (default 3); 10x these with NODE_ENV=development.
   */
  declare readonly invitationRateLimit: {
    readonly windowSeconds: number;
    readonly perInviter: number;
    readonly perTeam: number;
    readonly perRecipient: number;
  };
  /**
   * Team API keys: requests allowed per key per minute (API_KEY_RATE_LIMIT, default 600);
   * past it the key gets 429 with Retry-After (REDIS_URL storage when set).
   */
  declare readonly apiKeys: { readonly ratePerMinute: number };
  /** TRUST_PROXY as Express defines `trust proxy` (the API's and the admin panel's Fastify both read it so): false, true, a hop count or a list of addresses. */
  declare readonly trustProxy: boolean | number | string;
  declare readonly logLevel: LogLevel;
  /**
   * LOG_FORMAT: `json` (pino's JSON lines) or `pretty` (one readable, coloured line per entry,
   * by pino-pretty). Unset: `pretty` when stdout is a terminal and NODE_ENV is not production,
   * else `json`.
   */
  declare readonly logFormat: LogFormat;
  declare readonly adminSessionSecret: string;
  /**
   * ADMIN_SESSION_IDLE_MINUTES (default 30, 1 to 480): a back-office session ends after this
   * much inactivity; every request extends it. The 8-hour limit from sign-in still applies.
   */
  declare readonly adminSessionIdleMinutes: number;
  /**
   * ADMIN_PANEL (default true): mount the AdminJS back office at /admin; it loads on the first
   * /admin request (AdminPanelHost), so an instance nobody opens it on never pays its memory
   * or start-up time. `false` mounts nothing (the admin module is never imported) and /admin
   * answers 404.
   */
  declare readonly adminPanel: boolean;
  /**
   * METRICS_TOKEN: the bearer token for `GET /metrics` (Prometheus text format). Unset: no
   * metrics are collected and `/metrics` answers 404.
   */
  declare readonly metricsToken: string | undefined;
  /**
   * Two-factor sign-in. `encryptionKey`: the 32-byte AES-256-GCM key for TOTP secrets at rest,
   * HKDF-SHA256 of MFA_ENCRYPTION_KEY (32+ characters), else of JWT_SECRET (`keyFromJwtSecret`).
   * Changing the source makes stored secrets unreadable: users would have to enrol again.
   */
  declare readonly mfa: { readonly encryptionKey: Buffer; readonly keyFromJwtSecret: boolean };
  /**
   * The background job queue (pg-boss, in PostgreSQL). `workers` (WORKERS): this process runs
   * the job handlers; every process can enqueue. `schema` (JOBS_SCHEMA): the PostgreSQL schema
   * of the queue; deployments (or test runs) sharing one database keep separate queues with
   * separate schemas. `shutdownTimeoutMs` (JOBS_SHUTDOWN_TIMEOUT_MS): how long a stopping
   * process lets in-flight jobs finish; jobs still running then are failed and retried.
   */
  declare readonly jobs: {
    readonly workers: boolean;
    readonly schema: string;
    readonly shutdownTimeoutMs: number;
  };
  /**
   * Outgoing webhooks. `allowPrivate` (WEBHOOKS_ALLOW_PRIVATE, default false): endpoint URLs
   * may be `http://` and may resolve to loopback, private or link-local addresses (development
   * and tests only; the SSRF protection is off). `retryDelaysSeconds`
   * (WEBHOOKS_RETRY_DELAYS_SECONDS, comma-separated): the wait before each retry of a failed
   * delivery; one attempt plus one per entry, then the delivery is `failed`. `timeoutMs`
   * (WEBHOOKS_TIMEOUT_MS, default 10 000): longest one attempt may take. `concurrency`
   * (WEBHOOKS_CONCURRENCY, default 10): deliveries one worker process runs at once (each
   * endpoint gets one at a time, across all processes). `eventsPerMinute`
   * (WEBHOOKS_EVENT_RATE_LIMIT, default 60): events a team's changes may produce per minute;
   * a change past it answers 429 with Retry-After (REDIS_URL storage when set).
   */
  /**
   * SHUTDOWN_DRAIN_MS (default 5000 in production, else 0; up to 600 000): on SIGTERM the
   * instance answers 503 on /health/ready at once and keeps serving this long, so a load
   * balancer stops sending it requests, before it stops accepting connections.
   */
  declare readonly shutdownDrainMs: number;
  /** The DNS lookups of domain verification (DNS_SERVERS, DNS_TIMEOUT_MS; see DnsConfig). */
  declare readonly dns: DnsConfig;
  declare readonly webhooks: {
    readonly allowPrivate: boolean;
    readonly retryDelaysSeconds: readonly number[];
    readonly timeoutMs: number;
    readonly concurrency: number;
    readonly eventsPerMinute: number;
  };
}

/** 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: 8 attempts over about 27.6 hours. */
export const DEFAULT_WEBHOOK_RETRY_DELAYS_SECONDS: readonly number[] = [
  5, 300, 1800, 7200, 18_000, 36_000, 36_000,
];

function secondsList(env: Env, name: string, fallback: readonly number[]): readonly number[] {
  const value = read(env, name);
  if (value === undefined) return fallback;
  const parts = value.split(',').map((part) => part.trim());
  if (
    parts.length > 50 ||
    parts.some((part) => !/^\d+$/.test(part) || Number(part) < 1 || Number(part) > 604_800)
  ) {
    throw new ConfigValidationError(
      name,
      `must be a comma-separated list of at most 50 delays in seconds, each from 1 to 604800 (got "${value}")`,
    );
  }
  return Object.freeze(parts.map(Number));
}

/** Different `info` per use, so the JWT key and the MFA key are independent even from one secret. */
export function deriveMfaKey(source: string): Buffer {
  return Buffer.from(hkdfSync('sha256', source, 'nest-saas', 'mfa-totp-secret-encryption', 32));
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];
const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];
const NODE_ENVS: readonly NodeEnv[] = ['development', 'production', 'test'];
const EMAIL_VERIFICATION_MODES: readonly EmailVerificationMode[] = ['optional', 'required'];
const DATABASE_POOLERS: readonly DatabasePooler[] = ['transaction'];

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = read(env, name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigValidationError(name, `must be one of ${allowed.join(', ')} (got "${value}")`);
  }
  return value as T;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = read(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigValidationError(
      name,
      `must be an integer from ${min} to ${max} (got "${value}")`,
    );
  }
  return Number(value);
}

function url(env: Env, name: string, protocols: readonly string[]): URL | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigValidationError(name, 'must be an absolute URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigValidationError(
      name,
      `must use ${protocols.map((p) => p.replace(':', '://')).join(' or ')} (got "${parsed.protocol}//")`,
    );
  }
  return parsed;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const value = read(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigValidationError(name, `must be true or false (got "${value}")`);
}

function identifier(env: Env, name: string, fallback: string): string {
  const value = read(env, name);
  if (value === undefined) return fallback;
  if (!/^[a-z_][a-z0-9_]{0,49}$/.test(value)) {
    throw new ConfigValidationError(
      name,
      `must be a lower-case PostgreSQL identifier (letters, digits, _; got "${value}")`,
    );
  }
  return value;
}

function trustProxy(env: Env): boolean | number | string {
  const value = read(env, 'TRUST_PROXY');
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  // Express accepts a comma-separated list of addresses/subnets or names like "loopback".
  if (/^[\w.:/, -]+$/.test(value)) return value;
  throw new ConfigValidationError(
    'TRUST_PROXY',
    'must be true, false, a hop count, or a comma-separated list of trusted addresses',
  );
}

function corsOrigins(env: Env, appUrl: string, production: boolean): readonly string[] {
  const value = read(env, 'CORS_ORIGINS');
  if (value === undefined) return production ? [] : [new URL(appUrl).origin];
  const origins = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    // Browsers send the Origin header as exactly scheme://host[:port]; anything else never matches.
    if (
      parsed === undefined ||
      !['http:', 'https:'].includes(parsed.protocol) ||
      parsed.origin !== origin
    ) {
      throw new ConfigValidationError(
        'CORS_ORIGINS',
        `must be comma-separated origins like https://app.example.com (no path or trailing slash; got "${origin}")`,
      );
    }
  }
  return Object.freeze([...new Set(origins)]);
}

/** What the defaults depend on besides the environment. */
export interface ConfigContext {
  /** stdout is a terminal (a person is reading): LOG_FORMAT defaults to pretty outside production. */
  stdoutIsTty?: boolean;
}

/** Validates the environment and returns the typed configuration. Throws on the first bad value. */
export function loadConfig(env: Env, context: ConfigContext = {}): AppConfig {
  const nodeEnv = oneOf(env, 'NODE_ENV', NODE_ENVS, 'development');
  const production = nodeEnv === 'production';
  // A developer signing in and out all day, or a frontend's test run signing up users, would
  // hit the production limits (30 per IP per 15 min) from localhost: in development the
  // default rate limits are 10x higher. Set values win; `test` keeps production's defaults.
  const devFactor = nodeEnv === 'development' ? 10 : 1;

  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:'])?.toString();
  const databaseDirectUrl = url(env, 'DATABASE_DIRECT_URL', [
    'postgres:',
    'postgresql:',
  ])?.toString();
  const poolerName = read(env, 'DB_POOLER');
  const databasePooler =
    poolerName === undefined ? undefined : oneOf(env, 'DB_POOLER', DATABASE_POOLERS, 'transaction');
  if (databaseUrl === undefined) {
    // The embedded server is the app's own: nothing sits in front of it.
    for (const [name, value] of [
      ['DATABASE_DIRECT_URL', databaseDirectUrl],
      ['DB_POOLER', databasePooler],
    ] as const) {
      if (value !== undefined) {
        throw new ConfigValidationError(
          name,
          'needs DATABASE_URL (the embedded PostgreSQL is used without it)',
        );
      }
    }
  }

  let secret = read(env, 'JWT_SECRET');
  const generated = secret === undefined;
  if (secret === undefined) {
    if (production) throw new ConfigValidationError('JWT_SECRET', 'is required in production');
    secret = randomBytes(48).toString('base64url');
  } else if (secret.length < 32) {
    throw new ConfigValidationError('JWT_SECRET', 'must be at least 32 characters');
  }

  const appUrl = (url(env, 'APP_URL', ['http:', 'https:']) ?? new URL('http://localhost:3000'))
    .toString()
    .replace(/\/$/, '');

  const apiUrl = (url(env, 'API_URL', ['http:', 'https:']) ?? new URL(appUrl))
    .toString()
    .replace(/\/$/, '');

  const stripeSecretKey = read(env, 'STRIPE_SECRET_KEY');
  const stripeWebhookSecret = read(env, 'STRIPE_WEBHOOK_SECRET');
  if (stripeSecretKey !== undefined && !/^(sk|rk)_/.test(stripeSecretKey)) {
    throw new ConfigValidationError('STRIPE_SECRET_KEY', 'must start with sk_ or rk_');
  }
  if (stripeWebhookSecret !== undefined && !stripeWebhookSecret.startsWith('whsec_')) {
    throw new ConfigValidationError('STRIPE_WEBHOOK_SECRET', 'must start with whsec_');
  }

  const smtpUrl = url(env, 'SMTP_URL', ['smtp:', 'smtps:'])?.toString();
  const from = read(env, 'MAIL_FROM') ?? 'nest-saas <no-reply@localhost>';
  if (!/^(.*<)?[^\s@<>]+@[^\s@<>]+>?$/.test(from)) {
    throw new ConfigValidationError(
      'MAIL_FROM',
      'must be an address like "Name <no-reply@example.com>"',
    );
  }

  const adminSessionSecret = read(env, 'ADMIN_SESSION_SECRET');
  if (adminSessionSecret !== undefined && adminSessionSecret.length < 32) {
    throw new ConfigValidationError('ADMIN_SESSION_SECRET', 'must be at least 32 characters');
  }

  const metricsToken = read(env, 'METRICS_TOKEN');
  if (metricsToken !== undefined && !/^[\x21-\x7e]{16,256}$/.test(metricsToken)) {
    throw new ConfigValidationError(
      'METRICS_TOKEN',
      'must be 16 to 256 printable characters without spaces',
    );
  }
  const mfaKeySource = read(env, 'MFA_ENCRYPTION_KEY');
  if (mfaKeySource !== undefined && mfaKeySource.length < 32) {
    throw new ConfigValidationError('MFA_ENCRYPTION_KEY', 'must be at least 32 characters');
  }

  const config: AppConfig = {
    nodeEnv,
    port: integer(env, 'PORT', 3000, 0, 65535),
    databaseUrl,
    databaseDirectUrl: databaseDirectUrl ?? databaseUrl,
    databasePooler,
    databaseDirectPooler: databaseDirectUrl === undefined ? databasePooler : undefined,
    databasePoolMax: integer(env, 'DATABASE_POOL_MAX', 10, 1, 1000),
    databaseStatementTimeoutMs: integer(env, 'DB_STATEMENT_TIMEOUT_MS', 10_000, 100, 3_600_000),
    embedded: {
      dataDir: read(env, 'EMBEDDED_PG_DIR') ?? '.data/postgres',
      port:
        read(env, 'EMBEDDED_PG_PORT') === undefined
          ? undefined
          : integer(env, 'EMBEDDED_PG_PORT', 0, 1024, 65535),
    },
    jwt: {
      secret,
      generated,
      issuer: 'nest-saas',
      audience: 'nest-saas-api',
      accessTtlSeconds: integer(env, 'JWT_ACCESS_TTL', 900, 30, 86_400),
      refreshTtlSeconds: integer(env, 'JWT_REFRESH_TTL', 30 * 86_400, 300, 365 * 86_400),
    },
    appUrl,
    apiUrl,
    oidc: loadOidcConfig(env, production),
    emailVerification: oneOf(env, 'EMAIL_VERIFICATION', EMAIL_VERIFICATION_MODES, 'optional'),
    corsOrigins: corsOrigins(env, appUrl, production),
    stripe: {
      secretKey: stripeSecretKey,
      webhookSecret: stripeWebhookSecret,
      apiUrl: url(env, 'STRIPE_API_URL', ['http:', 'https:']),
    },
    mail: { smtpUrl, from },
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:'])?.toString(),
    rateLimit: {
      windowSeconds: integer(env, 'RATE_LIMIT_WINDOW', 900, 1, 86_400),
      perIp: integer(env, 'RATE_LIMIT_PER_IP', 30 * devFactor, 1, 1_000_000),
      perEmail: integer(env, 'RATE_LIMIT_PER_EMAIL', 10 * devFactor, 1, 1_000_000),
      tokenPerIp: integer(env, 'RATE_LIMIT_TOKEN_PER_IP', 60 * devFactor, 1, 1_000_000),
      slowdownMaxMs: integer(env, 'RATE_LIMIT_SLOWDOWN_MAX_MS', 5000, 0, 60_000),
    },
    invitationRateLimit: {
      windowSeconds: integer(env, 'INVITATION_RATE_LIMIT_WINDOW', 3600, 1, 86_400),
      perInviter: integer(env, 'INVITATION_RATE_LIMIT_PER_INVITER', 20 * devFactor, 1, 1_000_000),
      perTeam: integer(env, 'INVITATION_RATE_LIMIT_PER_TEAM', 50 * devFactor, 1, 1_000_000),
      perRecipient: integer(
        env,
        'INVITATION_RATE_LIMIT_PER_RECIPIENT',
        3 * devFactor,
        1,
        1_000_000,
      ),
    },
    apiKeys: { ratePerMinute: integer(env, 'API_KEY_RATE_LIMIT', 600, 1, 1_000_000) },
    trustProxy: trustProxy(env),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: oneOf(
      env,
      'LOG_FORMAT',
      LOG_FORMATS,
      context.stdoutIsTty === true && !production ? 'pretty' : 'json',
    ),
    // Derived from the JWT key when unset, so one secret is enough for a small deployment.
    adminSessionSecret: adminSessionSecret ?? `admin-session:${secret}`,
    adminSessionIdleMinutes: integer(env, 'ADMIN_SESSION_IDLE_MINUTES', 30, 1, 480),
    adminPanel: boolean(env, 'ADMIN_PANEL', true),
    metricsToken,
    mfa: {
      encryptionKey: deriveMfaKey(mfaKeySource ?? secret),
      keyFromJwtSecret: mfaKeySource === undefined,
    },
    jobs: {
      workers: boolean(env, 'WORKERS', true),
      schema: identifier(env, 'JOBS_SCHEMA', 'pgboss'),
      shutdownTimeoutMs: integer(env, 'JOBS_SHUTDOWN_TIMEOUT_MS', 20_000, 1000, 600_000),
    },
    shutdownDrainMs: integer(env, 'SHUTDOWN_DRAIN_MS', production ? 5000 : 0, 0, 600_000),
    dns: loadDnsConfig(env),
    webhooks: {
      allowPrivate: boolean(env, 'WEBHOOKS_ALLOW_PRIVATE', false),
      retryDelaysSeconds: secondsList(
        env,
        'WEBHOOKS_RETRY_DELAYS_SECONDS',
        DEFAULT_WEBHOOK_RETRY_DELAYS_SECONDS,
      ),
      timeoutMs: integer(env, 'WEBHOOKS_TIMEOUT_MS', 10_000, 100, 60_000),
      concurrency: integer(env, 'WEBHOOKS_CONCURRENCY', 10, 1, 200),
      eventsPerMinute: integer(env, 'WEBHOOKS_EVENT_RATE_LIMIT', 60, 1, 1_000_000),
    },
  };
  return Object.freeze(config);
}
