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

/** `args.x` is `sql.placeholder('x')` for every property a query builder reads. */
const PLACEHOLDERS = new Proxy({} as Record<string, Placeholder>, {
  get: (_target, key) => sql.placeholder(String(key)),
});

/**
 * A timestamp as PostgreSQL writes it in text or JSON (the schema's timestamps are all without
 * time zone, in UTC), read as Drizzle's column would read it (e.g. inside a `json_agg`).
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
 * read and a direct connection served 0.66–0.83× the requests (bench/RESULTS.md item 28).
 * `encode` turns the arguments into what the columns' encoders would have produced, since
 * placeholders bypass them (e.g. a Date → ISO). Rows are mapped by Drizzle, as any query's.
 */
export class PreparedQuery<A extends Record<string, unknown>, R> {
  private prepared: Prepared<R> | undefined;

  constructor(
    private readonly txHost: TransactionHost,
    private readonly name: string,
    private readonly build: (db: DbClient, args: Placeheld<A>) => Preparable<R>,
    private readonly encode: (args: A) => Record<string, unknown> = (args) => args,
  ) {}

  async execute(args: A): Promise<R> {
    if (this.txHost.inTransaction) return this.build(this.txHost.db, args);
    this.prepared ??= this.build(this.txHost.db, PLACEHOLDERS as Placeheld<A>).prepare(
      this.txHost.namedStatements ? this.name : undefined,
    );
    return this.prepared.execute(this.encode(args));
  }
}
