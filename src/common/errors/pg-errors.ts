/** PostgreSQL's SQLSTATE for a unique-constraint violation. */
const UNIQUE_VIOLATION = '23505';

/**
 * True when `error` or any error it wraps satisfies `test`: Drizzle wraps driver errors in
 * `cause`, and a refused connection to a host with several addresses is an AggregateError
 * (`errors`). Bounded, so a cyclic chain cannot loop.
 */
export function someWrappedError(
  error: unknown,
  test: (e: { code?: unknown; constraint?: unknown; message?: unknown }) => boolean,
): boolean {
  const pending: unknown[] = [error];
  for (let seen = 0; pending.length > 0 && seen < 20; seen++) {
    const e = pending.shift();
    if (typeof e !== 'object' || e === null) continue;
    if (test(e)) return true;
    const { cause, errors } = e as { cause?: unknown; errors?: unknown };
    if (cause !== undefined) pending.push(cause);
    if (Array.isArray(errors)) pending.push(...(errors as unknown[]));
  }
  return false;
}

/**
 * True when `error` (or an error it wraps) is a unique violation, of `constraint` when given.
 * Lets services turn a race on a unique column into a 409.
 */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  return someWrappedError(
    error,
    (e) => e.code === UNIQUE_VIOLATION && (constraint === undefined || e.constraint === constraint),
  );
}

/**
 * True when `error` (or an error it wraps) is SQLSTATE class 22, a data exception (bad number,
 * out of range, invalid byte sequence...): input that got past validation, not a server fault.
 */
export function isDataException(error: unknown): boolean {
  return someWrappedError(
    error,
    (e) => typeof e.code === 'string' && /^22[0-9A-Z]{3}$/.test(e.code),
  );
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
  return someWrappedError(
    error,
    ({ code, message }) =>
      isUnavailableCode(code) || (typeof message === 'string' && UNAVAILABLE_MESSAGES.has(message)),
  );
}
