import { Global, Module } from '@nestjs/common';
import { PasswordHasher } from './crypto/password-hasher.js';
import { ConnectionDrainer } from './http/connection-drainer.js';

@Global()
@Module({
  providers: [PasswordHasher, ConnectionDrainer],
  exports: [PasswordHasher, ConnectionDrainer],
})
export class CommonModule {}
