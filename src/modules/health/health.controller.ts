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
import { DRIZZLE, type Database } from '../../database/database.tokens.js';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    @Inject(DRIZZLE) private readonly db: Database,
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
        try {
          await Promise.race([
            this.db.execute(sql`select 1`),
            new Promise((_, reject) =>
              setTimeout(() => reject(new Error('timeout after 3 s')), 3000).unref(),
            ),
          ]);
          return check.up();
        } catch (error) {
          return check.down({ message: error instanceof Error ? error.message : 'unreachable' });
        }
      },
    ]);
  }
}
