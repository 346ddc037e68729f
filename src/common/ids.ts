/** Largest value of a PostgreSQL `integer` (serial ids). */
export const MAX_ID = 2_147_483_647;

/**
 * An id as a positive int4, or undefined for anything else ('abc', '0', '1.5', '99999999999').
 * Used for path ids (ParseIdPipe, the team role guard), cursors, token payloads and ids read
 * back from Stripe metadata or the admin panel: anything that reaches PostgreSQL as an id.
 */
export function parseId(raw: unknown): number | undefined {
  // The global ValidationPipe (transform: true) has already turned `id: number` params into
  // numbers ('abc' into NaN) by the time a param pipe runs.
  if (typeof raw === 'number') {
    return Number.isSafeInteger(raw) && raw >= 1 && raw <= MAX_ID ? raw : undefined;
  }
  if (typeof raw !== 'string' || !/^[1-9]\d{0,9}$/.test(raw)) return undefined;
  const id = Number(raw);
  return id <= MAX_ID ? id : undefined;
}
