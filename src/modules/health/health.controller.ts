import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags, type SchemaObject } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { sql } from 'drizzle-orm';
import { Public } from '../../common/decorators/public.decorator.js';
import { AppConfig } from '../../config/app-config.js';
import { CommonErrors } from '../../common/errors/common.errors.js';
import { ConnectionDrainer } from '../../common/http/connection-drainer.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { DRIZZLE, type Database } from '../../database/database.tokens.js';

const INDICATORS: SchemaObject = {
  type: 'object',
  description: 'Per check (`database`): `{ status: "up" | "down", message? }`',
  additionalProperties: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['up', 'down'] }, message: { type: 'string' } },
  },
};

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    @Inject(DRIZZLE) private readonly db: Database,
    private readonly config: AppConfig,
    private readonly drainer: ConnectionDrainer,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Liveness: the process is up and serving HTTP' })
  @ApiOkResponse({
    description: 'Up',
    schema: {
      type: 'object',
      required: ['status'],
      properties: { status: { type: 'string', enum: ['ok'] } },
    },
  })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  // Documented below: the error shape of the global filter, not terminus' own 503 body.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({
    summary: 'Readiness: the database answers a ping',
    description:
      'Answers 503 from the moment the instance is told to stop (SIGTERM), while it still serves requests for `SHUTDOWN_DRAIN_MS`, so a load balancer stops sending it new ones.',
  })
  @ApiOkResponse({
    description: 'The database answers',
    schema: {
      type: 'object',
      required: ['status', 'info', 'error', 'details'],
      properties: {
        status: { type: 'string', enum: ['ok'] },
        info: INDICATORS,
        error: INDICATORS,
        details: INDICATORS,
      },
    },
  })
  @ApiErrors(CommonErrors.serviceUnavailable)
  ready() {
    if (this.drainer.draining) {
      throw CommonErrors.serviceUnavailable('This instance is shutting down');
    }
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
