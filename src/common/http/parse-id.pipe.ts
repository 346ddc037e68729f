import { Injectable, Param, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { CommonErrors } from '../errors/common.errors.js';
import { parseId } from '../ids.js';

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

/** A path id parsed by ParseIdPipe: `@IdParam('teamId') teamId: number`. */
export const IdParam = (name: string): ParameterDecorator => Param(name, ParseIdPipe);
