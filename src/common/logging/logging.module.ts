import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Options } from 'pino-http';
import type { DestinationStream } from 'pino';
import { AppConfig } from '../../config/app-config.js';
import { requestIdOf } from '../http/request-id.js';
import { serializeError } from './redact-error.js';

/** Where the logs go: null is pino's default (stdout). Tests override it to read the log. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

/** The app's pino-http options: levels, request ids, redaction, serializers. */
export function pinoHttpOptions(config: AppConfig): Options {
  return {
    level: config.logLevel,
    // The same id as Fastify's `request.id` (the adapter's genReqId), which also echoes it.
    genReqId: (req: IncomingMessage) => requestIdOf(req),
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
      censor: '[redacted]',
    },
    // 503 is a known state (billing not configured, database unreachable), not a bug;
    // unexpected errors are logged in full by the exception filter.
    customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
      res.statusCode === 503
        ? 'warn'
        : error || res.statusCode >= 500
          ? 'error'
          : res.statusCode >= 400
            ? 'warn'
            : 'info',
    autoLogging: { ignore: (req: IncomingMessage) => req.url === '/health' },
    serializers: {
      req: (req: { id: unknown; method: string; url: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      // Every logged error, whoever logs it: the SQL of a failed query, never its values.
      err: serializeError,
    },
  };
}

/** Structured request logs (pino) with a request id taken from `X-Request-Id` or generated. */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      providers: [{ provide: LOG_DESTINATION, useValue: null }],
      inject: [AppConfig, LOG_DESTINATION],
      useFactory: (config: AppConfig, destination: DestinationStream | null) => {
        const pinoHttp = pinoHttpOptions(config);
        return { pinoHttp: destination ? [pinoHttp, destination] : pinoHttp };
      },
    }),
  ],
})
export class LoggingModule {}
