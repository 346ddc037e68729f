import pg from 'pg';

/** pg's error when `query_timeout` passes without an answer from the server. */
export const QUERY_READ_TIMEOUT = 'Query read timeout';

function isReadTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === QUERY_READ_TIMEOUT;
}

type AnyQuery = (this: pg.Client, ...args: unknown[]) => unknown;
// eslint-disable-next-line @typescript-eslint/unbound-method -- called with .apply(client, ...)
const baseQuery = pg.Client.prototype.query as unknown as AnyQuery;

/**
 * A pg client that is safe to pool with `query_timeout` set.
 *
 * When `query_timeout` fires, pg rejects the query but leaves it in flight on the connection:
 * the next query (a transaction's ROLLBACK included) queues behind it, and a client released
 * like that goes back to the pool mid-transaction, where the server may later run the late
 * statement and a later COMMIT would commit it. So a timed-out client closes its socket at
 * once (the server rolls back the open transaction) and the pool drops it on release.
 *
 * It also keeps an `error` listener while checked out: pg-pool only listens while a client is
 * idle, and a connection lost mid-request would otherwise crash the process. Its queries
 * receive the error anyway.
 */
export class BoundedClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('error', () => undefined);
  }

  /** Closes the socket; the in-flight and queued queries fail, the pool removes the client. */
  discard(): void {
    // end() destroys the socket when a query is in flight (it never waits for a hung one).
    this.end().catch(() => undefined);
  }
}

// Overridden on the prototype: pg's query() has a dozen overloads that a subclass method
// would have to restate; this keeps them and only observes the outcome.
BoundedClient.prototype.query = function query(this: BoundedClient, ...args: unknown[]): unknown {
  const last = args.length - 1;
  const callback = args[last];
  if (typeof callback === 'function') {
    args[last] = (error: unknown, result: unknown) => {
      if (isReadTimeout(error)) this.discard();
      (callback as (error: unknown, result: unknown) => void)(error, result);
    };
    return baseQuery.apply(this, args);
  }
  const result = baseQuery.apply(this, args);
  if (result instanceof Promise) {
    // Registered before the caller's await continues, so a transaction's ROLLBACK already
    // sees a closed client instead of queueing behind the hung query.
    result.catch((error: unknown) => {
      if (isReadTimeout(error)) this.discard();
    });
  }
  return result;
} as unknown as pg.Client['query'];
