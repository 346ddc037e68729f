import { Global, Module } from '@nestjs/common';
import { PasswordHasher } from '../common/crypto/password-hasher.js';
import { AppConfig } from '../config/app-config.js';
import { DatabaseConnection } from './database.connection.js';
import { DRIZZLE, PG_POOL } from './database.tokens.js';
import { TransactionHost } from './transaction-host.js';

@Global()
@Module({
  providers: [
    {
      provide: DatabaseConnection,
      inject: [AppConfig, PasswordHasher],
      useFactory: (config: AppConfig, hasher: PasswordHasher) =>
        DatabaseConnection.open(config, hasher),
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
