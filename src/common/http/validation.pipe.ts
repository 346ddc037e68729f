import { ValidationPipe, type ValidationError } from '@nestjs/common';
import type { ErrorDetail } from '../errors/app-error.js';
import { CommonErrors } from '../errors/common.errors.js';

function flatten(errors: ValidationError[], parent = ''): ErrorDetail[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * Global validation: DTOs are transformed, unknown fields are rejected (not silently dropped),
 * and every violation is listed in `details`.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => CommonErrors.validation('Invalid request', flatten(errors)),
  });
}
