import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../../common/errors/app-error.js';

export const MetricsErrors = defineErrors({
  unauthorized: {
    code: 'metrics.unauthorized',
    status: HttpStatus.UNAUTHORIZED,
    message: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>',
  },
});
