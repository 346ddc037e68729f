import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import * as classTransformer from 'class-transformer';
import * as classValidator from 'class-validator';
import type { ErrorDetail } from '../errors/app-error.js';
import { CommonErrors } from '../errors/common.errors.js';

/** class-validator errors as `details` entries (dotted field paths), as the API reports them. */
export function flatten(errors: ValidationError[], parent = ''): ErrorDetail[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** The path of the first string holding U+0000 in `value` (a body, query or param), if any. */
export function findNulString(value: unknown, path = '', depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (depth >= 8 || typeof value !== 'object' || value === null) return undefined;
  for (const [key, child] of Object.entries(value)) {
    const found = findNulString(child, path ? `${path}.${key}` : key, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Keys that name JavaScript's prototype machinery. class-transformer silently drops
 * `__proto__` and `constructor` when it builds the DTO, so without this check they passed
 * where any other unknown key is a 400; no DTO of ours has such a field.
 */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The dotted path of the first prototype-named key at any depth of `value`. JSON bodies nest
 * at most MAX_JSON_DEPTH levels (checked before parsing), form bodies and queries not at all;
 * the depth bound here only keeps the walk finite for values built in-process.
 */
export function findPrototypeKey(value: unknown, path = '', depth = 0): string | undefined {
  if (depth > 64 || typeof value !== 'object' || value === null) return undefined;
  for (const key of Object.keys(value)) {
    const field = path ? `${path}.${key}` : key;
    if (PROTOTYPE_KEYS.has(key)) return field;
    const found = findPrototypeKey((value as Record<string, unknown>)[key], field, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * PostgreSQL text cannot hold U+0000 (the driver fails with "invalid byte sequence"), so a
 * NUL anywhere in a body, query or path parameter is a 400 before any DTO sees it, instead of
 * a 500 from the first query that stores or compares it.
 */
class ApiValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'custom') {
      const field = findNulString(value, metadata.type === 'param' ? (metadata.data ?? '') : '');
      if (field !== undefined) {
        throw CommonErrors.validation('Invalid request', [
          { field: field || metadata.type, message: 'must not contain NUL (U+0000) characters' },
        ]);
      }
    }
    if (metadata.type === 'body' || metadata.type === 'query') {
      const field = findPrototypeKey(value);
      if (field !== undefined) {
        // The same detail class-validator gives any other unknown (non-whitelisted) field.
        const key = field.slice(field.lastIndexOf('.') + 1);
        throw CommonErrors.validation('Invalid request', [
          { field, message: `property ${key} should not exist` },
        ]);
      }
    }
    return super.transform(value, metadata) as Promise<unknown>;
  }
}

/**
 * Global validation: DTOs are transformed, unknown fields are rejected (not silently dropped),
 * prototype-named keys (`__proto__`, `constructor`, `prototype`) at any depth count as unknown,
 * NUL characters are refused, and every violation is listed in `details`.
 *
 * The two packages are handed over rather than left to the pipe's own `import()`: the same
 * copies the DTOs' decorators registered their metadata with, in the sources and in the
 * production bundle alike (where an `import()` of a CommonJS package yields only `default`).
 */
export function createValidationPipe(): ValidationPipe {
  return new ApiValidationPipe({
    validatorPackage: classValidator,
    transformerPackage: classTransformer,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => CommonErrors.validation('Invalid request', flatten(errors)),
  });
}
