import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';
const VALID_REQUEST_ID = /^[\w.:-]{1,128}$/;
const REQUEST_ID = Symbol('requestId');

/**
 * The request's id: an incoming `X-Request-Id` when it is short and plain (letters, digits,
 * `_ . : -`, at most 128), else a fresh UUID. Remembered on the Node request, so Fastify's
 * `request.id`, the pino request logger and the exception filter all see the same one.
 */
export function requestIdOf(req: IncomingMessage): string {
  const holder = req as IncomingMessage & { [REQUEST_ID]?: string };
  let id = holder[REQUEST_ID];
  if (id === undefined) {
    const incoming = req.headers[REQUEST_ID_HEADER];
    id = typeof incoming === 'string' && VALID_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    holder[REQUEST_ID] = id;
  }
  return id;
}
