/** PostgreSQL's SQLSTATE for a unique-constraint violation. */
const UNIQUE_VIOLATION = '23505';

interface PgError {
  code?: unknown;
  constraint?: unknown;
}

/**
 * True when `error` (or its cause: Drizzle wraps driver errors) is a unique violation, of
 * `constraint` when given. Lets services turn a race on a unique column into a 409.
 */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const pg = e as PgError;
    if (pg.code === UNIQUE_VIOLATION)
      return constraint === undefined || pg.constraint === constraint;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Socket-level failures reaching the database server. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs that say "the database cannot serve this now", not "this request is wrong":
 * 57014 query_canceled (statement_timeout), 57P01 admin_shutdown, 57P02 crash_shutdown,
 * 57P03 cannot_connect_now, 57P05 idle_session_timeout, 55P03 lock_not_available
 * (lock_timeout), 53xxx insufficient resources (53300 too_many_connections), 08xxx
 * connection exceptions.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57014', '57P01', '57P02', '57P03', '57P05', '55P03']);
const UNAVAILABLE_SQLSTATE_CLASSES = ['08', '53'];

/** Messages of pg / pg-pool for a connection that is gone, refused or too slow. */
const UNAVAILABLE_MESSAGES = new Set([
  'Connection terminated',
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
]);

function isUnavailableCode(code: unknown): boolean {
  if (typeof code !== 'string') return false;
  if (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code)) return true;
  return /^[0-9A-Z]{5}$/.test(code) && UNAVAILABLE_SQLSTATE_CLASSES.includes(code.slice(0, 2));
}

/**
 * True when `error`, or any error it wraps (`cause`: Drizzle wraps driver errors; `errors`: a
 * refused connection to a host with several addresses), says the database is unreachable,
 * shutting down, overloaded or did not answer in time. Those are the server's trouble, not
 * the request's: the API answers 503 and the client may retry. (The socket codes are the
 * same for any other backend a request needs; 503 is the right answer for those as well.)
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const pending: unknown[] = [error];
  for (let seen = 0; pending.length > 0 && seen < 20; seen++) {
    const e = pending.shift();
    if (typeof e !== 'object' || e === null) continue;
    const { code, message, cause, errors } = e as {
      code?: unknown;
      message?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    if (isUnavailableCode(code)) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.has(message)) return true;
    if (cause !== undefined) pending.push(cause);
    if (Array.isArray(errors)) pending.push(...(errors as unknown[]));
  }
  return false;
}
