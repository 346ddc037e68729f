import { Global, Module } from '@nestjs/common';
import { ConfigModule as NestConfigModule } from '@nestjs/config';
import { AppConfig, loadConfig } from './app-config.js';

/** Reads `.env` (if present) into the environment, validates it once, and provides `AppConfig`. */
@Global()
@Module({
  imports: [NestConfigModule.forRoot({ ignoreEnvFile: false, cache: true })],
  providers: [{ provide: AppConfig, useFactory: () => loadConfig(process.env) }],
  exports: [AppConfig],
})
export class ConfigModule {}
