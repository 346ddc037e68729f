import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { CommonErrors } from '../errors/common.errors.js';

/** Largest value of a PostgreSQL `integer` (serial ids). */
export const MAX_ID = 2_147_483_647;

/** A path id as a positive int4, or undefined for anything else ('abc', '0', '1.5', '99999999999'). */
export function parseId(raw: unknown): number | undefined {
  // The global ValidationPipe (transform: true) has already turned `id: number` params into
  // numbers ('abc' into NaN) by the time a param pipe runs.
  if (typeof raw === 'number') {
    return Number.isSafeInteger(raw) && raw >= 1 && raw <= MAX_ID ? raw : undefined;
  }
  if (typeof raw !== 'string' || !/^[1-9]\d{0,9}$/.test(raw)) return undefined;
  const id = Number(raw);
  return id <= MAX_ID ? id : undefined;
}

/** The 400 for a malformed path id, in the API's error shape, naming the parameter. */
export function invalidIdError(name: string) {
  return CommonErrors.validation('Invalid request', [
    { field: name, message: `${name} must be a positive integer id` },
  ]);
}

/**
 * `@Param('teamId', ParseIdPipe)`: like ParseIntPipe, but also rejects ids PostgreSQL cannot
 * hold (so 99999999999 is a 400, never a 500 from the driver).
 */
@Injectable()
export class ParseIdPipe implements PipeTransform<unknown, number> {
  transform(value: unknown, metadata: ArgumentMetadata): number {
    const id = parseId(value);
    if (id === undefined) throw invalidIdError(metadata.data ?? 'id');
    return id;
  }
}
