import { applyDecorators, Delete, HttpCode, HttpStatus } from '@nestjs/common';
import { ApiNoContentResponse } from '@nestjs/swagger';

/** A DELETE route that answers 204 with no body, documented as `description`. */
export const DeleteNoContent = (path: string | undefined, description: string): MethodDecorator =>
  applyDecorators(
    Delete(path),
    HttpCode(HttpStatus.NO_CONTENT),
    ApiNoContentResponse({ description }),
  );
