import type { AppConfig } from '../config/app-config.js';
import type { DatabaseLog } from '../database/resolve-database.js';
import { createRootLogger } from '../common/logging/logging.module.js';

/**
 * Logs of the boot edge (before the app and its logger exist) in the app's format (LOG_FORMAT,
 * LOG_LEVEL), with a `context` like the app's own.
 */
export async function bootLogger(config: AppConfig, context: string): Promise<DatabaseLog> {
  const log = (await createRootLogger(config)).child({ context });
  return {
    log: (message) => log.info(message),
    debug: (message) => log.debug(message),
  };
}
