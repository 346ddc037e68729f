import { Controller, Get, Inject } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { sql } from 'drizzle-orm';
import { Public } from '../../common/decorators/public.decorator.js';
import { AppConfig } from '../../config/app-config.js';
import { DRIZZLE, type Database } from '../../database/database.tokens.js';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    @Inject(DRIZZLE) private readonly db: Database,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Liveness: the process is up and serving HTTP' })
  @ApiOkResponse({ description: '`{ "status": "ok" }`' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: the database answers a ping' })
  @ApiServiceUnavailableResponse({ description: 'The database is unreachable' })
  ready() {
    return this.health.check([
      async () => {
        const check = this.indicator.check('database');
        // Orchestrators probe often and with short timeouts of their own: answer within 3 s
        // even when the statement timeout (which also bounds this query) is longer.
        const bound = Math.min(3000, this.config.databaseStatementTimeoutMs);
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            this.db.execute(sql`select 1`),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`timeout after ${bound} ms`)), bound);
            }),
          ]);
          return check.up();
        } catch (error) {
          return check.down({ message: error instanceof Error ? error.message : 'unreachable' });
        } finally {
          clearTimeout(timer);
        }
      },
    ]);
  }
}
