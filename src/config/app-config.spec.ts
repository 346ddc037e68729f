import { describe, expect, it } from '@jest/globals';
import { ConfigValidationError, loadConfig } from './app-config.js';

const SECRET = 'a'.repeat(32);

function errorOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return (error as Error).message;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      nodeEnv: 'development',
      port: 3000,
      databaseUrl: undefined,
      appUrl: 'http://localhost:3000',
      stripe: { secretKey: undefined, webhookSecret: undefined, apiUrl: undefined },
      mail: { smtpUrl: undefined },
      redisUrl: undefined,
      trustProxy: false,
      logLevel: 'info',
      logFormat: 'json',
      databaseStatementTimeoutMs: 10_000,
      emailVerification: 'optional',
      jobs: { workers: true, schema: 'pgboss', shutdownTimeoutMs: 20_000 },
    });
    expect(config.jwt.generated).toBe(true);
    expect(config.jwt.secret.length).toBeGreaterThanOrEqual(32);
  });

  it('LOG_FORMAT: pretty by default only on a terminal outside production; set values win', () => {
    const tty = { stdoutIsTty: true };
    expect(loadConfig({}, tty).logFormat).toBe('pretty');
    expect(loadConfig({ NODE_ENV: 'test' }, tty).logFormat).toBe('pretty');
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET }, tty).logFormat).toBe('json');
    expect(loadConfig({}, { stdoutIsTty: false }).logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: 'json' }, tty).logFormat).toBe('json');
    expect(
      loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, LOG_FORMAT: 'pretty' }).logFormat,
    ).toBe('pretty');
    expect(errorOf({ LOG_FORMAT: 'text' })).toBe(
      'Invalid configuration: LOG_FORMAT must be one of json, pretty (got "text")',
    );
  });

  it('rate limits: 10x higher defaults in development, so a developer is not locked out', () => {
    const production = loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET });
    const test = loadConfig({ NODE_ENV: 'test' });
    const development = loadConfig({ NODE_ENV: 'development' });
    for (const config of [production, test]) {
      expect(config.rateLimit).toMatchObject({
        windowSeconds: 900,
        perIp: 30,
        perEmail: 10,
        tokenPerIp: 60,
      });
      expect(config.invitationRateLimit).toMatchObject({
        perInviter: 20,
        perTeam: 50,
        perRecipient: 3,
      });
    }
    expect(development.rateLimit).toMatchObject({
      windowSeconds: 900,
      perIp: 300,
      perEmail: 100,
      tokenPerIp: 600,
    });
    expect(development.invitationRateLimit).toMatchObject({
      perInviter: 200,
      perTeam: 500,
      perRecipient: 30,
    });
    // A value that is set wins in development too.
    expect(loadConfig({ RATE_LIMIT_PER_IP: '5' }).rateLimit.perIp).toBe(5);
  });

  it('outgoing webhooks: SSRF protection on, retries for about a day, 10 s timeout by default', () => {
    expect(loadConfig({}).webhooks).toEqual({
      allowPrivate: false,
      retryDelaysSeconds: [5, 300, 1800, 7200, 18_000, 36_000, 36_000],
      timeoutMs: 10_000,
      concurrency: 10,
      eventsPerMinute: 60,
    });
    expect(
      loadConfig({
        WEBHOOKS_ALLOW_PRIVATE: 'true',
        WEBHOOKS_RETRY_DELAYS_SECONDS: ' 1, 2 ,3',
        WEBHOOKS_TIMEOUT_MS: '500',
        WEBHOOKS_CONCURRENCY: '4',
        WEBHOOKS_EVENT_RATE_LIMIT: '1000',
      }).webhooks,
    ).toEqual({
      allowPrivate: true,
      retryDelaysSeconds: [1, 2, 3],
      timeoutMs: 500,
      concurrency: 4,
      eventsPerMinute: 1000,
    });
  });

  it.each(['WEBHOOKS_CONCURRENCY', 'WEBHOOKS_EVENT_RATE_LIMIT'])(
    'rejects a bad %s naming the variable',
    (name) => {
      expect(errorOf({ [name]: '0' })).toContain(name);
      expect(errorOf({ [name]: 'many' })).toContain(name);
    },
  );

  it('SHUTDOWN_DRAIN_MS: 5 s in production, none elsewhere, else the value', () => {
    expect(loadConfig({}).shutdownDrainMs).toBe(0);
    expect(loadConfig({ NODE_ENV: 'test' }).shutdownDrainMs).toBe(0);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET }).shutdownDrainMs).toBe(5000);
    expect(
      loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, SHUTDOWN_DRAIN_MS: '0' })
        .shutdownDrainMs,
    ).toBe(0);
    expect(loadConfig({ SHUTDOWN_DRAIN_MS: '15000' }).shutdownDrainMs).toBe(15_000);
    expect(errorOf({ SHUTDOWN_DRAIN_MS: '-1' })).toBe(
      'Invalid configuration: SHUTDOWN_DRAIN_MS must be an integer from 0 to 600000 (got "-1")',
    );
  });

  it('FREE_PLAN_LIMITS: unlimited when unset, the product-metadata keys when set', () => {
    expect(loadConfig({}).freePlanLimits).toEqual({});
    expect(loadConfig({ FREE_PLAN_LIMITS: ' ' }).freePlanLimits).toEqual({});
    expect(loadConfig({ FREE_PLAN_LIMITS: 'max_members=3,max_api_keys=0' }).freePlanLimits).toEqual(
      { maxMembers: 3, maxApiKeys: 0 },
    );
    expect(
      loadConfig({ FREE_PLAN_LIMITS: ' max_webhooks = 2 , max_members=10,' }).freePlanLimits,
    ).toEqual({ maxWebhooks: 2, maxMembers: 10 });
    for (const [value, reason] of [
      [
        'max_seats=3',
        'has an unknown key "max_seats" (use max_members, max_api_keys, max_webhooks)',
      ],
      ['max_members=3,max_members=4', 'names "max_members" twice'],
      ['max_members=-1', 'must give max_members a whole number'],
      ['max_members=2.5', 'must give max_members a whole number'],
      ['max_members', 'must give max_members a whole number'],
      ['max_members=', 'must give max_members a whole number'],
      ['max_api_keys=lots', 'must give max_api_keys a whole number'],
    ]) {
      expect(errorOf({ FREE_PLAN_LIMITS: value! })).toContain(
        `Invalid configuration: FREE_PLAN_LIMITS ${reason!}`,
      );
    }
  });

  it('ADMIN_PANEL: the back office is mounted unless turned off', () => {
    expect(loadConfig({}).adminPanel).toBe(true);
    expect(loadConfig({ ADMIN_PANEL: 'false' }).adminPanel).toBe(false);
    expect(loadConfig({ ADMIN_PANEL: '1' }).adminPanel).toBe(true);
  });

  it('WORKERS=false keeps the job workers out of this process', () => {
    expect(loadConfig({ WORKERS: 'false' }).jobs.workers).toBe(false);
    expect(loadConfig({ WORKERS: 'TRUE' }).jobs.workers).toBe(true);
  });

  it('generates a different JWT key per start when JWT_SECRET is unset', () => {
    expect(loadConfig({}).jwt.secret).not.toBe(loadConfig({}).jwt.secret);
  });

  it('refuses to start in production without JWT_SECRET', () => {
    expect(errorOf({ NODE_ENV: 'production' })).toBe(
      'Invalid configuration: JWT_SECRET is required in production',
    );
  });

  it.each([
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET must be at least 32 characters'],
    [{ PORT: 'eighty' }, 'PORT must be an integer from 0 to 65535 (got "eighty")'],
    [{ PORT: '70000' }, 'PORT must be an integer'],
    [{ DATABASE_URL: 'mysql://x@y/z' }, 'DATABASE_URL must use postgres:// or postgresql://'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL must be an absolute URL'],
    [
      { DATABASE_URL: 'postgres://u@pooler:6432/app', DB_POOLER: 'session' },
      'DB_POOLER must be one of transaction (got "session")',
    ],
    [{ DB_POOLER: 'transaction' }, 'DB_POOLER needs DATABASE_URL'],
    [{ DATABASE_DIRECT_URL: 'postgres://u@db/app' }, 'DATABASE_DIRECT_URL needs DATABASE_URL'],
    [
      { DATABASE_URL: 'postgres://u@pooler:6432/app', DATABASE_DIRECT_URL: 'db:5432' },
      'DATABASE_DIRECT_URL must',
    ],
    [{ APP_URL: 'ftp://x' }, 'APP_URL must use http:// or https://'],
    [
      { LOG_LEVEL: 'loud' },
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    ],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV must be one of development, production, test'],
    [{ STRIPE_SECRET_KEY: 'pk_live_x' }, 'STRIPE_SECRET_KEY must start with sk_ or rk_'],
    [{ STRIPE_WEBHOOK_SECRET: 'secret' }, 'STRIPE_WEBHOOK_SECRET must start with whsec_'],
    [{ SMTP_URL: 'http://mail' }, 'SMTP_URL must use smtp:// or smtps://'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL must'],
    [{ TRUST_PROXY: 'yes please!' }, 'TRUST_PROXY must be true, false, a hop count'],
    [{ DB_STATEMENT_TIMEOUT_MS: '10s' }, 'DB_STATEMENT_TIMEOUT_MS must be an integer from 100'],
    [{ DB_STATEMENT_TIMEOUT_MS: '0' }, 'DB_STATEMENT_TIMEOUT_MS must be an integer from 100'],
    [{ EMAIL_VERIFICATION: 'always' }, 'EMAIL_VERIFICATION must be one of optional, required'],
    [{ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN must be 16 to 256 printable characters'],
    [{ METRICS_TOKEN: 'has a space in the token' }, 'METRICS_TOKEN must be 16 to 256'],
    [{ ADMIN_PANEL: 'off' }, 'ADMIN_PANEL must be true or false (got "off")'],
    [{ WORKERS: 'sometimes' }, 'WORKERS must be true or false (got "sometimes")'],
    [{ JOBS_SCHEMA: 'job queue' }, 'JOBS_SCHEMA must be a lower-case PostgreSQL identifier'],
    [{ WEBHOOKS_ALLOW_PRIVATE: 'yes' }, 'WEBHOOKS_ALLOW_PRIVATE must be true or false'],
    [
      { WEBHOOKS_RETRY_DELAYS_SECONDS: '5,5m' },
      'WEBHOOKS_RETRY_DELAYS_SECONDS must be a comma-separated list',
    ],
    [
      { WEBHOOKS_RETRY_DELAYS_SECONDS: '0' },
      'WEBHOOKS_RETRY_DELAYS_SECONDS must be a comma-separated list',
    ],
    [{ WEBHOOKS_TIMEOUT_MS: '10s' }, 'WEBHOOKS_TIMEOUT_MS must be an integer from 100 to 60000'],
  ])('names the variable in one line for %j', (env, message) => {
    const text = errorOf({ JWT_SECRET: SECRET, ...env });
    expect(text).toContain(message);
    expect(text).not.toContain('\n');
  });

  it('parses the optional integrations', () => {
    const config = loadConfig({
      JWT_SECRET: SECRET,
      NODE_ENV: 'production',
      PORT: '8080',
      DATABASE_URL: 'postgres://u:p@db:5432/app',
      APP_URL: 'https://app.example.com/',
      STRIPE_SECRET_KEY: 'sk_test_123',
      STRIPE_WEBHOOK_SECRET: 'whsec_123',
      STRIPE_API_URL: 'http://127.0.0.1:12111',
      SMTP_URL: 'smtp://user:pass@mail:1025',
      MAIL_FROM: 'Acme <no-reply@acme.test>',
      REDIS_URL: 'redis://127.0.0.1:6379',
      TRUST_PROXY: '1',
      LOG_LEVEL: 'warn',
      DB_STATEMENT_TIMEOUT_MS: '2500',
      EMAIL_VERIFICATION: 'required',
    });
    expect(config).toMatchObject({
      nodeEnv: 'production',
      port: 8080,
      databaseUrl: 'postgres://u:p@db:5432/app',
      appUrl: 'https://app.example.com',
      stripe: { secretKey: 'sk_test_123', webhookSecret: 'whsec_123' },
      mail: { smtpUrl: 'smtp://user:pass@mail:1025', from: 'Acme <no-reply@acme.test>' },
      redisUrl: 'redis://127.0.0.1:6379',
      trustProxy: 1,
      logLevel: 'warn',
      databaseStatementTimeoutMs: 2500,
      emailVerification: 'required',
      jwt: { secret: SECRET, generated: false },
    });
    expect(config.stripe.apiUrl?.port).toBe('12111');
  });

  it('DATABASE_DIRECT_URL defaults to DATABASE_URL; DB_POOLER is unset or transaction', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@db:5432/app' })).toMatchObject({
      databaseUrl: 'postgres://u@db:5432/app',
      databaseDirectUrl: 'postgres://u@db:5432/app',
      databasePooler: undefined,
    });
    expect(
      loadConfig({
        DATABASE_URL: 'postgres://u@pooler:6432/app',
        DATABASE_DIRECT_URL: 'postgres://u@db:5432/app',
        DB_POOLER: 'transaction',
      }),
    ).toMatchObject({
      databaseUrl: 'postgres://u@pooler:6432/app',
      databaseDirectUrl: 'postgres://u@db:5432/app',
      databasePooler: 'transaction',
      databaseDirectPooler: undefined,
    });
    // Without a direct URL, the "direct" connection is the pooler's too.
    expect(
      loadConfig({ DATABASE_URL: 'postgres://u@pooler:6432/app', DB_POOLER: 'transaction' }),
    ).toMatchObject({
      databaseDirectUrl: 'postgres://u@pooler:6432/app',
      databaseDirectPooler: 'transaction',
    });
    expect(loadConfig({})).toMatchObject({
      databaseDirectUrl: undefined,
      databasePooler: undefined,
      databaseDirectPooler: undefined,
    });
  });

  it('treats TRUST_PROXY=true and address lists as Express understands them', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toBe(
      'loopback, 10.0.0.0/8',
    );
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '  ' })).toMatchObject({
      port: 3000,
      databaseUrl: undefined,
    });
  });

  it("CORS_ORIGINS: APP_URL's origin outside production, none in production, else the list", () => {
    expect(loadConfig({}).corsOrigins).toEqual(['http://localhost:3000']);
    expect(loadConfig({ APP_URL: 'https://app.example.com/base/' }).corsOrigins).toEqual([
      'https://app.example.com',
    ]);
    expect(
      loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, APP_URL: 'https://app.example.com' })
        .corsOrigins,
    ).toEqual([]);
    expect(
      loadConfig({
        NODE_ENV: 'production',
        JWT_SECRET: SECRET,
        CORS_ORIGINS: ' https://a.example.com, http://localhost:5173 ,https://a.example.com',
      }).corsOrigins,
    ).toEqual(['https://a.example.com', 'http://localhost:5173']);
  });

  it.each([
    '*',
    'https://a.example.com/',
    'https://a.example.com/app',
    'a.example.com',
    'ftp://a.example.com',
  ])('refuses CORS_ORIGINS=%j, naming the variable', (value) => {
    expect(errorOf({ CORS_ORIGINS: value })).toMatch(
      /^Invalid configuration: CORS_ORIGINS must be/,
    );
  });
});
