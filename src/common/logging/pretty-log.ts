import { pino, type DestinationStream } from 'pino';
import type { PrettyOptions } from 'pino-pretty';

/** Where pretty lines are written: stdout, synchronously (see prettyDestination). */
export interface TextOutput {
  write(text: string): unknown;
}

type Line = Record<string, unknown>;

const isRecord = (value: unknown): value is Line => typeof value === 'object' && value !== null;

/**
 * The message of a pretty line: `[Context] message`, and for a request's own line (its
 * completion or abort, which carry `responseTime`) the request itself, e.g.
 * `GET /api/v1/teams/9 404 team.not_found user 12 3 ms`.
 */
export function prettyMessage(log: Line, messageKey: string): string {
  const message = typeof log[messageKey] === 'string' ? log[messageKey] : '';
  const req = log.req;
  if (isRecord(req) && typeof log.responseTime === 'number') {
    const parts = [String(req.method), String(req.url)];
    if (isRecord(log.res)) parts.push(String(log.res.statusCode));
    if (typeof log.code === 'string') parts.push(log.code);
    if (typeof log.userId === 'number') parts.push(`user ${log.userId}`);
    if (typeof log.apiKeyId === 'number') parts.push(`key ${log.apiKeyId}`);
    parts.push(`${log.responseTime} ms`);
    return message === 'request completed' ? parts.join(' ') : `${message}: ${parts.join(' ')}`;
  }
  return typeof log.context === 'string' ? `[${log.context}] ${message}` : message;
}

/** pino-pretty's options: the time of day, the level, the message above, other fields below. */
export const PRETTY_OPTIONS: PrettyOptions = {
  translateTime: 'SYS:HH:MM:ss.l',
  // Shown in the message (prettyMessage) or of no use to a person at a terminal; every other
  // field (an error's stack, a line's own data) is printed below the message.
  ignore: 'pid,hostname,context,req,res,responseTime,code,userId,apiKeyId',
  messageFormat: prettyMessage,
  singleLine: false,
};

/**
 * LOG_FORMAT=pretty: a pino destination that formats each JSON line with pino-pretty's
 * prettifier (prettyFactory) and writes it to `output` (stdout, synchronously) at once.
 * Not pino-pretty as a transport: transports run in a worker thread loaded by file path,
 * which the production bundle (src/cli/bundle.ts) does not keep; and synchronous writes keep
 * the last lines of a process that is stopping. Imported only when chosen: loading
 * pino-pretty takes a noticeable part of start-up.
 */
export async function prettyDestination(
  output: TextOutput = pino.destination({ dest: 1, sync: true }),
): Promise<DestinationStream> {
  const { prettyFactory } = await import('pino-pretty');
  const prettify = prettyFactory(PRETTY_OPTIONS);
  return { write: (line: string) => void output.write(prettify(line)) };
}
