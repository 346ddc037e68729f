import { applyDecorators, Controller } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';

/** A controller for `/teams/:teamId/<path>`, listed under the OpenAPI tag `tag`. */
export const TeamController = (tag: string, path: string): ClassDecorator =>
  applyDecorators(ApiTags(tag), Controller(`teams/:teamId/${path}`));
