import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type * as schema from './schema.js';

export type Database = NodePgDatabase<typeof schema>;
/** A Drizzle transaction: the same query API as `Database`. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
/** Either the pool-backed client or the current transaction. */
export type DbClient = Database | Transaction;

/** The pool-backed Drizzle client. Repositories use `TransactionHost.db` instead. */
export const DRIZZLE = Symbol('DRIZZLE');
export const PG_POOL = Symbol('PG_POOL');
