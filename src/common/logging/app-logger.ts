import type { LoggerService } from '@nestjs/common';
import type { Logger as PinoLogger } from 'pino';
import { ScopedValue } from '../async-scope.js';

/** The request a log line belongs to: what every line written while serving it carries. */
export interface RequestBindings {
  id: string;
  method: string;
  url: string;
}

/**
 * The logging context of one request. Its child logger (the root logger with `req` bound) is
 * made on the first line logged inside the request, so a request that logs nothing but its
 * own completion line never pays for one.
 */
export class RequestLogContext {
  private child: PinoLogger | undefined;
  /** When the request arrived (ms since the epoch), for the completion line's responseTime. */
  readonly started = Date.now();
  /** The API error code the request was answered with (noteErrorCode), for its completion line. */
  errorCode: string | undefined;

  constructor(
    private readonly root: PinoLogger,
    readonly req: RequestBindings,
  ) {}

  get logger(): PinoLogger {
    this.child ??= this.root.child({ req: this.req });
    return this.child;
  }
}

/**
 * The request being served, for AppLogger: entered by the request hook (see request-log.ts),
 * so every line any service logs while serving a request carries its `req` (and request id)
 * without the request being passed around.
 */
export const requestLogContext = new ScopedValue<RequestLogContext>('request log');

type NestLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/**
 * Nest's own start-up narration (each module initialised, each controller and route mapped,
 * "starting", "successfully started"): about a hundred info lines before the app's one
 * "ready" line. Written at debug instead (LOG_LEVEL=debug shows them); their warnings and
 * errors keep their level.
 */
const NEST_BOOTSTRAP_CONTEXTS: ReadonlySet<unknown> = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

/**
 * Nest's LoggerService on the app's pino logger (`app.useLogger`): every `new Logger(ctx)` of
 * @nestjs/common writes a pino line with `context` set to `ctx`, through the request's
 * logger while serving a request (its `req` bound), through the root logger otherwise. Nest's
 * start-up lines are demoted to debug (NEST_BOOTSTRAP_CONTEXTS).
 *
 * Nest's call shapes: `log(message, context)`, `error(message, stack, context)` (the stack of
 * an error Nest caught, logged as an `err`), and an object or an Error as the message (merged
 * into the line, or logged as its `err`). The last optional parameter is the context.
 */
export class AppLogger implements LoggerService {
  constructor(private readonly root: PinoLogger) {}

  verbose(message: unknown, ...optionalParams: unknown[]): void {
    this.write('trace', message, optionalParams);
  }

  debug(message: unknown, ...optionalParams: unknown[]): void {
    this.write('debug', message, optionalParams);
  }

  log(message: unknown, ...optionalParams: unknown[]): void {
    const bootstrap = NEST_BOOTSTRAP_CONTEXTS.has(optionalParams[optionalParams.length - 1]);
    this.write(bootstrap ? 'debug' : 'info', message, optionalParams);
  }

  warn(message: unknown, ...optionalParams: unknown[]): void {
    this.write('warn', message, optionalParams);
  }

  error(message: unknown, ...optionalParams: unknown[]): void {
    this.write('error', message, optionalParams);
  }

  fatal(message: unknown, ...optionalParams: unknown[]): void {
    this.write('fatal', message, optionalParams);
  }

  private get logger(): PinoLogger {
    return requestLogContext.get()?.logger ?? this.root;
  }

  private write(level: NestLevel, message: unknown, optionalParams: unknown[]): void {
    const logger = this.logger;
    if (!logger.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    let params = optionalParams;
    if (params.length > 0) {
      fields.context = params[params.length - 1];
      params = params.slice(0, -1);
    }
    if (message instanceof Error) {
      fields.err = message;
      logger[level](fields, ...(params as []));
    } else if (typeof message === 'object' && message !== null) {
      Object.assign(fields, message);
      logger[level](fields, ...(params as []));
    } else if (
      level === 'error' &&
      typeof message === 'string' &&
      params.length === 1 &&
      typeof params[0] === 'string' &&
      /\n\s*at /.test(params[0])
    ) {
      // Nest's own `error(message, stack, context)`: the stack belongs to an error.
      const error = new Error(message);
      error.stack = params[0];
      fields.err = error;
      logger.error(fields);
    } else {
      logger[level](fields, String(message), ...(params as []));
    }
  }
}
