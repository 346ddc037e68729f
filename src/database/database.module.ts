import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { DatabaseConnection } from './database.connection.js';
import { DRIZZLE, PG_POOL } from './database.tokens.js';
import { TransactionHost } from './transaction-host.js';

/** A pool (and Drizzle client) on `AppConfig.databaseUrl`, which the boot edge resolved. */
@Global()
@Module({
  providers: [
    {
      provide: DatabaseConnection,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => DatabaseConnection.open(config),
    },
    { provide: DRIZZLE, inject: [DatabaseConnection], useFactory: (c: DatabaseConnection) => c.db },
    {
      provide: PG_POOL,
      inject: [DatabaseConnection],
      useFactory: (c: DatabaseConnection) => c.pool,
    },
    TransactionHost,
  ],
  exports: [DRIZZLE, PG_POOL, TransactionHost],
})
export class DatabaseModule {}
