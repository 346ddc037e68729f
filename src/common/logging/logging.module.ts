import { Global, Module } from '@nestjs/common';
import { pino, type DestinationStream, type Logger as PinoLogger, type LoggerOptions } from 'pino';
import { AppConfig } from '../../config/app-config.js';
import { traceLogMixin } from '../tracing/tracing.js';
import { AppLogger } from './app-logger.js';
import { prettyDestination } from './pretty-log.js';
import { serializeError } from './redact-error.js';

/** Where the logs go: null is pino's default (stdout). Tests override it to read the log. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

/** The app's root pino logger; every line, request-scoped or not, derives from it. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/** The app's pino options: level, redaction, serializers. */
export function pinoOptions(config: AppConfig): LoggerOptions {
  return {
    level: config.logLevel,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
      censor: '[redacted]',
    },
    serializers: {
      // Every logged error, whoever logs it: the SQL of a failed query, never its values.
      err: serializeError,
    },
    // `trace_id` on every line logged inside a request or job span, with tracing on.
    mixin: traceLogMixin(),
  };
}

/**
 * The root logger of a process (the app's ROOT_LOGGER, the boot edge's logger): pinoOptions,
 * written to `destination` when given (tests), else to stdout as JSON lines, or as lines a
 * person reads with LOG_FORMAT=pretty (pretty-log.ts). Every log line of the app and the
 * worker is made by a logger created here.
 */
export async function createRootLogger(
  config: AppConfig,
  destination: DestinationStream | null = null,
): Promise<PinoLogger> {
  const target =
    destination ?? (config.logFormat === 'pretty' ? await prettyDestination() : undefined);
  const logger = target ? pino(pinoOptions(config), target) : pino(pinoOptions(config));
  rootLoggers.add(logger);
  return logger;
}

/** Every root logger this process made, so that the last lines can be flushed at exit. */
const rootLoggers = new Set<PinoLogger>();

/**
 * Waits until what the root loggers were given is written. pino's stdout destination writes
 * asynchronously: a process that ends itself with a signal (boot/shutdown.ts) would otherwise
 * lose its last lines ("stopped in N ms"), which no 'exit' handler can save.
 */
export async function flushLogs(): Promise<void> {
  await Promise.all(
    [...rootLoggers].map((logger) => new Promise<void>((resolve) => logger.flush(() => resolve()))),
  );
}

/**
 * Structured logs (pino JSON lines): ROOT_LOGGER, and AppLogger, the LoggerService the app
 * and the worker hand to `app.useLogger`. The request log (one line per request, and the
 * request's `req` on every line logged while serving it) is written by Fastify hooks that
 * configureApp installs (request-log.ts), not by a middleware.
 */
@Global()
@Module({
  providers: [
    { provide: LOG_DESTINATION, useValue: null },
    {
      provide: ROOT_LOGGER,
      inject: [AppConfig, LOG_DESTINATION],
      useFactory: (config: AppConfig, destination: DestinationStream | null) =>
        createRootLogger(config, destination),
    },
    {
      provide: AppLogger,
      inject: [ROOT_LOGGER],
      useFactory: (root: PinoLogger) => new AppLogger(root),
    },
  ],
  exports: [ROOT_LOGGER, AppLogger],
})
export class LoggingModule {}
