import { sql, type Placeholder } from 'drizzle-orm';
import type { DbClient } from './database.tokens.js';
import type { TransactionHost } from './transaction-host.js';

/** The same arguments, each of which may be a placeholder (for preparing). */
export type Placeheld<A> = { [K in keyof A]: A[K] | Placeholder };

interface Prepared<R> {
  execute(values?: Record<string, unknown>): Promise<R>;
}

interface Preparable<R> extends PromiseLike<R> {
  /** `undefined`: the unnamed statement, as Drizzle runs a query it was not asked to prepare. */
  prepare(name: string | undefined): Prepared<R>;
}

/** A row as node-postgres returns it to Drizzle: the selected columns in order. */
export type DriverRow = readonly unknown[];

/** `args.x` is `sql.placeholder('x')` for every property a query builder reads. */
const PLACEHOLDERS = new Proxy({} as Record<string, Placeholder>, {
  get: (_target, key) => sql.placeholder(String(key)),
});

/**
 * A timestamp column's value as Drizzle's node-postgres driver receives it (text; the schema's
 * timestamps are all without time zone, in UTC), read as Drizzle's column would read it.
 */
export function timestampFromDriver(value: unknown): Date {
  return new Date(`${value as string}+0000`);
}

/**
 * A hot per-request query that runs as a named prepared statement when it can: outside a
 * transaction it is built once by Drizzle and prepared on the pool (PostgreSQL parses and
 * plans it once per connection); inside one it is built per call on the transaction's client,
 * so it still joins the service's transaction. Through a transaction-mode pooler
 * (`TransactionHost.namedStatements` false) the statement is the unnamed one: still built once
 * by Drizzle, parsed and planned by PostgreSQL on every execution. Named statements stay on a
 * direct connection because they pay: without them PostgreSQL spent 110–430 µs more per hot
 * read and a direct connection served 0.66–0.83× the requests (bench/RESULTS.md item 28). `encode` turns the arguments into what the
 * columns' encoders would have produced, since placeholders bypass them (e.g. a Date → ISO).
 *
 * `PreparedQuery.mapped` makes one whose rows are read by a mapper of the query's own
 * (`mapRow`, from the driver's row: the selected columns in order) instead of Drizzle's
 * generic row mapper, which allocates an iterator and an entry per column of every row (the
 * largest allocation of a feed page; bench/RESULTS.md item 20).
 */
export class PreparedQuery<A extends Record<string, unknown>, R> {
  private prepared: Prepared<R> | undefined;

  constructor(
    private readonly txHost: TransactionHost,
    private readonly name: string,
    private readonly build: (db: DbClient, args: Placeheld<A>) => Preparable<R>,
    private readonly encode: (args: A) => Record<string, unknown> = (args) => args,
    private readonly mapRow?: (row: DriverRow) => unknown,
  ) {}

  /** A prepared query whose rows `mapRow` reads (see the class comment). */
  static mapped<A extends Record<string, unknown>, T>(
    txHost: TransactionHost,
    name: string,
    build: (db: DbClient, args: Placeheld<A>) => Preparable<unknown>,
    mapRow: (row: DriverRow) => T,
    encode?: (args: A) => Record<string, unknown>,
  ): PreparedQuery<A, T[]> {
    return new PreparedQuery<A, T[]>(
      txHost,
      name,
      build as (db: DbClient, args: Placeheld<A>) => Preparable<T[]>,
      encode,
      mapRow,
    );
  }

  async execute(args: A): Promise<R> {
    if (this.mapRow === undefined) {
      if (this.txHost.inTransaction) return this.build(this.txHost.db, args);
      this.prepared ??= this.prepare(this.txHost.db);
      return this.prepared.execute(this.encode(args));
    }
    // The transaction's client gets the same named statement (same text, so no conflict).
    const prepared = this.txHost.inTransaction
      ? this.prepare(this.txHost.db)
      : (this.prepared ??= this.prepare(this.txHost.db));
    return prepared.execute(this.encode(args));
  }

  private prepare(db: DbClient): Prepared<R> {
    const prepared = this.build(db, PLACEHOLDERS as Placeheld<A>).prepare(
      this.txHost.namedStatements ? this.name : undefined,
    );
    const mapRow = this.mapRow;
    if (mapRow !== undefined) {
      // Drizzle's node-postgres prepared query hands the driver's rows to `customResultMapper`
      // when it has one (its relational queries use it); fail loudly if that ever changes.
      if (!('customResultMapper' in prepared)) {
        throw new Error(`${this.name}: Drizzle's prepared query has no customResultMapper`);
      }
      (prepared as { customResultMapper?: (rows: DriverRow[]) => unknown }).customResultMapper = (
        rows,
      ) => rows.map(mapRow);
    }
    return prepared;
  }
}
