import { DrizzleQueryError, fillPlaceholders, sql, type Placeholder } from 'drizzle-orm';
import pg from 'pg';
import type { DbClient } from './database.tokens.js';
import type { TransactionHost } from './transaction-host.js';

/** The same arguments, each of which may be a placeholder (for preparing). */
export type Placeheld<A> = { [K in keyof A]: A[K] | Placeholder };

interface Prepared<R> {
  execute(values?: Record<string, unknown>): Promise<R>;
}

interface Preparable<R> extends PromiseLike<R> {
  prepare(name: string): Prepared<R>;
  toSQL(): { sql: string; params: unknown[] };
}

/** A row as node-postgres returns it to Drizzle: the selected columns in order. */
export type DriverRow = readonly unknown[];

/** Returns the column's text as received. */
const asText = (value: string): string => value;

/**
 * The value parsers Drizzle's node-postgres driver uses: date and time types (and arrays of
 * them) stay text, for the columns' own decoding; every other type as pg parses it. One
 * object, whose parsers are made once (Drizzle's makes a new one per column per query).
 */
const DRIVER_TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    // timestamptz, timestamp, date, interval, and the arrays of timestamp, date, interval,
    // timestamptz (1231, numeric[], as Drizzle leaves it)
    if (TEXT_TYPES.has(oid)) return asText;
    return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
  },
};
const TEXT_TYPES = new Set([1184, 1114, 1082, 1186, 1231, 1115, 1185, 1187, 1182]);

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
 * so it still joins the service's transaction. `encode` turns the arguments into what the
 * columns' encoders would have produced, since placeholders bypass them (e.g. a Date → ISO).
 *
 * `PreparedQuery.mapped` makes one whose rows are read by a mapper of the query's own
 * (`mapRow`, from the driver's row: the selected columns in order) instead of Drizzle's
 * generic row mapper, which allocates an iterator and an entry per column of every row (the
 * largest allocation of a feed page). Outside a transaction it also runs the statement
 * Drizzle built on the pool directly: one promise per query instead of Drizzle's chain of
 * async wrappers, each of which the request's AsyncLocalStorage pays for (bench/RESULTS.md
 * item 19). The SQL and the parameters are Drizzle's (`toSQL`, `fillPlaceholders`), the
 * value parsing is its driver's, and an error is wrapped the way Drizzle wraps it.
 */
export class PreparedQuery<A extends Record<string, unknown>, R> {
  private prepared: Prepared<R> | undefined;
  /** The statement, for `mapped` queries outside transactions. */
  private statement: { config: pg.QueryArrayConfig; params: unknown[] } | undefined;

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
    if (this.txHost.inTransaction) return this.prepare(this.txHost.db).execute(this.encode(args));
    return this.runOnPool(this.mapRow, this.encode(args));
  }

  private runOnPool(mapRow: (row: DriverRow) => unknown, values: Record<string, unknown>) {
    if (this.statement === undefined) {
      const { sql: text, params } = this.build(
        this.txHost.db,
        PLACEHOLDERS as Placeheld<A>,
      ).toSQL();
      this.statement = {
        config: {
          name: this.name,
          text,
          rowMode: 'array',
          types: DRIVER_TYPES,
        } as pg.QueryArrayConfig,
        params,
      };
    }
    const { config, params } = this.statement;
    const filled = fillPlaceholders(params, values);
    return new Promise<R>((resolve, reject) => {
      this.txHost.pool.query({ ...config, values: filled }, (error: Error | undefined, result) => {
        if (error) reject(new DrizzleQueryError(config.text, filled, error));
        else resolve((result.rows as DriverRow[]).map(mapRow) as R);
      });
    });
  }

  private prepare(db: DbClient): Prepared<R> {
    const prepared = this.build(db, PLACEHOLDERS as Placeheld<A>).prepare(this.name);
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
