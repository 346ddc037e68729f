import { Controller, Get, Header, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Public } from '../../common/decorators/public.decorator.js';
import { CommonErrors } from '../../common/errors/common.errors.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { AppConfig } from '../../config/app-config.js';
import { MetricsErrors } from './metrics.errors.js';
import { MetricsService } from './metrics.service.js';

export const METRICS_SECURITY = 'metrics';

/**
 * Prometheus scrape endpoint, at the root beside `/health` (not under `/api/v1`). Public to the
 * app's user auth (it is not a user's route) but guarded by its own bearer token,
 * METRICS_TOKEN; with no token configured it does not exist (404).
 */
@ApiTags('health')
@Public()
@Controller('metrics')
export class MetricsController {
  private readonly tokenDigest: Buffer | undefined;

  constructor(
    private readonly metrics: MetricsService,
    config: AppConfig,
  ) {
    this.tokenDigest = config.metricsToken === undefined ? undefined : digest(config.metricsToken);
  }

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Prometheus metrics (text exposition format)',
    description:
      'Request durations by route template, in-flight requests, database pool and query ' +
      'durations, rate-limit refusals, job queue and default process metrics. Needs ' +
      '`Authorization: Bearer <METRICS_TOKEN>`; answers 404 when METRICS_TOKEN is not set.',
  })
  @ApiBearerAuth(METRICS_SECURITY)
  @ApiOkResponse({
    description: 'Prometheus text format, version 0.0.4',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  @ApiErrors(MetricsErrors.unauthorized, CommonErrors.notFound)
  async scrape(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    if (this.tokenDigest === undefined) throw CommonErrors.notFound();
    const header = req.headers.authorization ?? '';
    const match = /^Bearer (\S+)$/i.exec(header);
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), this.tokenDigest)) {
      void res.header('WWW-Authenticate', 'Bearer realm="metrics"');
      throw MetricsErrors.unauthorized();
    }
    const text = await this.metrics.render();
    void res.header('Content-Type', this.metrics.contentType).send(text);
  }
}

/** Fixed-length digests, so the comparison is constant-time whatever the lengths. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
