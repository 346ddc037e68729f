import { Logger } from '@nestjs/common';
import type { AppConfig } from '../config/app-config.js';
import { EmbeddedPostgres } from './embedded-postgres.js';

/** What start-up logs through: Nest's Logger, or the boot edge's pino logger. */
export interface DatabaseLog {
  log(message: string): void;
  debug(message: string): void;
}

export interface ResolvedDatabase {
  /** What the app's pool connects to (DATABASE_URL: maybe a pooler's). */
  url: string;
  /** Straight to the server (DATABASE_DIRECT_URL, default `url`): migrations, locks, jobs. */
  directUrl: string;
  /** Set when we started an embedded server; stop it after closing every connection. */
  embedded: EmbeddedPostgres | undefined;
}

/**
 * DATABASE_URL (and DATABASE_DIRECT_URL) when set; otherwise starts (initialising on first use)
 * the embedded PostgreSQL, which both URLs then name.
 */
export async function resolveDatabase(
  config: AppConfig,
  logger: DatabaseLog = new Logger('Database'),
): Promise<ResolvedDatabase> {
  if (config.databaseUrl !== undefined) {
    return {
      url: config.databaseUrl,
      directUrl: config.databaseDirectUrl ?? config.databaseUrl,
      embedded: undefined,
    };
  }
  const started = Date.now();
  const embedded = await EmbeddedPostgres.start({
    dataDir: config.embedded.dataDir,
    port: config.embedded.port,
    log: (line) => logger.debug(line),
  });
  logger.log(
    `embedded PostgreSQL ready on 127.0.0.1:${embedded.port} (data in ${embedded.dataDir}, ${Date.now() - started} ms)`,
  );
  return { url: embedded.url(), directUrl: embedded.url(), embedded };
}
