import { type DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule as NestConfigModule } from '@nestjs/config';
import { AppConfig, loadConfig } from './app-config.js';

/**
 * Provides `AppConfig`: the one the boot edge built (server.ts: validated at start, with the
 * database URL it resolved), else read from the environment (`.env` included) and validated once.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config?: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      global: true,
      imports: [NestConfigModule.forRoot({ ignoreEnvFile: false, cache: true })],
      providers: [
        config === undefined
          ? { provide: AppConfig, useFactory: () => loadConfig(process.env) }
          : { provide: AppConfig, useValue: config },
      ],
      exports: [AppConfig],
    };
  }
}
