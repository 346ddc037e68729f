import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '../errors/error-response.dto.js';

/**
 * Documents what the global default-deny guard enforces on every route that is not
 * @Public(): a bearer access token, and 401 without a valid one.
 */
export const Authenticated = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    ApiBearerAuth(),
    ApiUnauthorizedResponse({
      type: ErrorResponseDto,
      description: 'Missing, invalid, expired or revoked access token (`auth.unauthorized`)',
    }),
  );
