import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Level, Logger as PinoLogger } from 'pino';
import type { Actor } from '../auth/actor.js';
import { RequestLogContext, requestLogContext } from './app-logger.js';
import { redactUrl } from './redact-url.js';

const CONTEXT = Symbol('requestLogContext');

type LoggedRequest = FastifyRequest['raw'] & { [CONTEXT]?: RequestLogContext };

/**
 * Records the API error `code` a request is answered with (the exception filter, the router's
 * own answers), for its completion line. `request` is Fastify's request or the Node one.
 */
export function noteErrorCode(request: FastifyRequest | IncomingMessage, code: string): void {
  const raw = ('raw' in request ? request.raw : request) as LoggedRequest;
  const context = raw[CONTEXT];
  if (context !== undefined) context.errorCode = code;
}

/**
 * Who made the request, once the auth guard knows (`request.actor`): `userId` for a signed-in
 * user, `apiKeyId` for a team API key.
 */
function principalOf(request: FastifyRequest): { userId?: number; apiKeyId?: number } {
  const actor = (request as FastifyRequest & { actor?: Actor }).actor;
  switch (actor?.kind) {
    case undefined:
      return {};
    case 'user':
    case 'admin':
      return { userId: actor.id };
    case 'apiKey':
      return { apiKeyId: actor.keyId };
  }
}

/**
 * The level of a request's completion line: 503 is a known state (billing not configured,
 * database unreachable), not a bug, so warn; any other 5xx error (unexpected errors are also
 * logged in full by the exception filter); 4xx warn; the rest info.
 */
export function requestLogLevel(statusCode: number): Level {
  if (statusCode === 503) return 'warn';
  if (statusCode >= 500) return 'error';
  if (statusCode >= 400) return 'warn';
  return 'info';
}

/** Requests that are not logged: the liveness probe, polled every few seconds. */
function unlogged(url: string): boolean {
  return url === '/health';
}

/**
 * The request log, run by Fastify's hooks (no middleware): one line per request when its
 * response has been sent, `{ req: { id, method, url }, res: { statusCode }, responseTime }`
 * with `msg` "request completed" ("request errored" for a 5xx), at requestLogLevel, plus the
 * error's `code` (an API error answer) and the caller (`userId` or `apiKeyId`) when known. The
 * request id is Fastify's `request.id` (an incoming `X-Request-Id` kept when sane, see
 * request-id.ts), the one the response echoes.
 *
 * `enter` runs the rest of the request inside its RequestLogContext, so every line AppLogger
 * writes while serving it carries the same `req`. Called from the app's first onRequest hook
 * (before the admin panel, the body parsers, guards and handlers); `complete` is the
 * onResponse hook, which Fastify runs when the response has finished, the admin panel's
 * (written by Express on the same response) included; `aborted`, the onRequestAbort hook,
 * logs a request whose client went away before its response was sent ("request aborted").
 */
export function requestLog(root: PinoLogger): {
  enter: (request: FastifyRequest, next: () => void) => void;
  complete: (request: FastifyRequest, reply: FastifyReply, done: () => void) => void;
  aborted: (request: FastifyRequest, done: () => void) => void;
} {
  return {
    enter(request, next) {
      const raw = request.raw as LoggedRequest;
      // The URL as it arrived (a handler further on may rewrite `raw.url`),
      // without the secrets a query can carry (an OpenID Connect callback's code and state).
      const context = new RequestLogContext(root, {
        id: request.id,
        method: raw.method ?? '',
        url: redactUrl(raw.url ?? ''),
      });
      raw[CONTEXT] = context;
      requestLogContext.run(context, next);
    },
    complete(request, reply, done) {
      const context = (request.raw as LoggedRequest)[CONTEXT];
      const statusCode = reply.raw.statusCode;
      const level = requestLogLevel(statusCode);
      if (context !== undefined && root.isLevelEnabled(level) && !unlogged(context.req.url)) {
        root[level](
          {
            req: context.req,
            res: { statusCode },
            responseTime: Date.now() - context.started,
            code: statusCode >= 400 ? context.errorCode : undefined,
            ...principalOf(request),
          },
          statusCode >= 500 ? 'request errored' : 'request completed',
        );
      }
      done();
    },
    aborted(request, done) {
      const context = (request.raw as LoggedRequest)[CONTEXT];
      if (context !== undefined && root.isLevelEnabled('info')) {
        root.info(
          { req: context.req, responseTime: Date.now() - context.started, ...principalOf(request) },
          'request aborted',
        );
      }
      done();
    },
  };
}
