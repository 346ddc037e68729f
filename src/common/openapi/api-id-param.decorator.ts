import { ApiParam } from '@nestjs/swagger';
import { MAX_ID } from '../ids.js';

/** A path id as ParseIdPipe accepts it: a positive PostgreSQL `integer`. */
export const ApiIdParam = (name: string, description: string): MethodDecorator & ClassDecorator =>
  ApiParam({
    name,
    description,
    schema: { type: 'integer', minimum: 1, maximum: MAX_ID },
    example: 1,
  });
