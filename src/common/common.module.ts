import { Global, Module } from '@nestjs/common';
import { PasswordHasher } from './crypto/password-hasher.js';

@Global()
@Module({ providers: [PasswordHasher], exports: [PasswordHasher] })
export class CommonModule {}
