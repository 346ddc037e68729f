import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { HttpRequest } from '../http/http-request.js';
import { localeFromAcceptLanguage, type Locale } from './locales.js';

/**
 * The supported language the request's `Accept-Language` prefers (undefined: no header, or
 * none of ours). A decorator rather than `@Headers('accept-language')`, which Swagger would
 * document as a required header.
 */
export const AcceptLanguage = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Locale | undefined =>
    localeFromAcceptLanguage(
      ctx.switchToHttp().getRequest<HttpRequest>().headers['accept-language'],
    ),
);
