import { Injectable } from '@nestjs/common';
import { ScopedValue } from '../common/async-scope.js';
import { DatabaseConnection } from './database.connection.js';
import type { Database, DbClient, Transaction } from './database.tokens.js';

type TransactionConfig = Parameters<Database['transaction']>[1];

/**
 * The service owns the transaction; repositories join it without passing a handle around.
 * `transaction(fn)` runs fn inside one database transaction (or inside the caller's, when
 * already in one), and `db` is that transaction while fn runs, the pool otherwise.
 *
 * Written here instead of using @nestjs-cls/transactional: that package is CommonJS and
 * `require`s @nestjs/common, which is ESM-only from Nest 12; Jest cannot load that on Node 20.
 */
@Injectable()
export class TransactionHost {
  /** Per instance: two apps in one process (tests) never see each other's transactions. */
  private readonly storage = new ScopedValue<Transaction>('transaction');

  private readonly root: Database;
  /**
   * Whether a query may run as a named prepared statement (PreparedQuery): only on a direct
   * connection, where a client connection is one server session. Through a transaction-mode
   * pooler (DB_POOLER) the next transaction may run on a session that never saw it.
   */
  readonly namedStatements: boolean;

  constructor(connection: DatabaseConnection) {
    this.root = connection.db;
    this.namedStatements = connection.pooler === undefined;
  }

  /** The current transaction, or the pool outside one. Read it per query, do not cache it. */
  get db(): DbClient {
    return this.storage.get() ?? this.root;
  }

  get inTransaction(): boolean {
    return this.storage.get() !== undefined;
  }

  async transaction<T>(fn: () => Promise<T>, config?: TransactionConfig): Promise<T> {
    if (this.storage.get() !== undefined) return fn();
    let failure: { error: unknown } | undefined;
    try {
      return await this.root.transaction(async (tx) => {
        try {
          return await this.storage.run(tx, fn);
        } catch (error) {
          failure = { error };
          throw error;
        }
      }, config);
    } catch (error) {
      // When the ROLLBACK fails too (the connection is gone), Drizzle throws that failure;
      // the error that aborted the transaction says more, so it is the one that surfaces.
      throw failure !== undefined ? failure.error : error;
    }
  }
}
