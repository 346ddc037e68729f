import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { CommonErrors } from '../errors/common.errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `@Param('sessionId', ParseUuidPipe)`: a 400 in the API's error shape, naming the parameter,
 * for anything that is not a UUID (PostgreSQL would refuse it as a uuid: a 500 otherwise).
 * Lower-cases the value, the form PostgreSQL returns.
 */
@Injectable()
export class ParseUuidPipe implements PipeTransform<unknown, string> {
  transform(value: unknown, metadata: ArgumentMetadata): string {
    const name = metadata.data ?? 'id';
    if (typeof value !== 'string' || !UUID.test(value)) {
      throw CommonErrors.validation('Invalid request', [
        { field: name, message: `${name} must be a UUID` },
      ]);
    }
    return value.toLowerCase();
  }
}
