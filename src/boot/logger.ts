import { pino } from 'pino';
import type { AppConfig } from '../config/app-config.js';
import type { DatabaseLog } from '../database/resolve-database.js';

/**
 * Logs of the boot edge (before the app and its logger exist) in the app's format: pino JSON
 * lines at LOG_LEVEL, with a `context` like the app's own.
 */
export function bootLogger(config: AppConfig, context: string): DatabaseLog {
  const log = pino({ level: config.logLevel }).child({ context });
  return {
    log: (message) => log.info(message),
    debug: (message) => log.debug(message),
  };
}
