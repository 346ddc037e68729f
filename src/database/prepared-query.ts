import { sql, type Placeholder } from 'drizzle-orm';
import type { DbClient } from './database.tokens.js';
import type { TransactionHost } from './transaction-host.js';

/** The same arguments, each of which may be a placeholder (for preparing). */
export type Placeheld<A> = { [K in keyof A]: A[K] | Placeholder };

interface Preparable<R> extends PromiseLike<R> {
  prepare(name: string): { execute(values?: Record<string, unknown>): Promise<R> };
}

/** `args.x` is `sql.placeholder('x')` for every property a query builder reads. */
const PLACEHOLDERS = new Proxy({} as Record<string, Placeholder>, {
  get: (_target, key) => sql.placeholder(String(key)),
});

/**
 * A hot per-request query that runs as a named prepared statement when it can: outside a
 * transaction it is built once by Drizzle and prepared on the pool (PostgreSQL parses and
 * plans it once per connection); inside one it is built per call on the transaction's client,
 * so it still joins the service's transaction. `encode` turns the arguments into what the
 * columns' encoders would have produced, since placeholders bypass them (e.g. a Date → ISO).
 */
export class PreparedQuery<A extends Record<string, unknown>, R> {
  private prepared: ReturnType<Preparable<R>['prepare']> | undefined;

  constructor(
    private readonly txHost: TransactionHost,
    private readonly name: string,
    private readonly build: (db: DbClient, args: Placeheld<A>) => Preparable<R>,
    private readonly encode: (args: A) => Record<string, unknown> = (args) => args,
  ) {}

  async execute(args: A): Promise<R> {
    if (this.txHost.inTransaction) return this.build(this.txHost.db, args);
    this.prepared ??= this.build(this.txHost.db, PLACEHOLDERS as Placeheld<A>).prepare(this.name);
    return this.prepared.execute(this.encode(args));
  }
}
