import { existsSync } from 'node:fs';
import { AppConfig, ConfigValidationError, loadConfig } from './app-config.js';

/**
 * Loads `.env` (when present) and validates the environment before Nest starts, so a bad
 * value stops start-up with one line naming the variable instead of a stack trace.
 */
export function loadConfigOrExit(): AppConfig {
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return loadConfig(process.env, { stdoutIsTty: process.stdout.isTTY === true });
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
