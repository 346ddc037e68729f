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
