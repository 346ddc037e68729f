import { HttpStatus } from '@nestjs/common';
import { defineErrors } from './app-error.js';

export const CommonErrors = defineErrors({
  validation: {
    code: 'request.invalid',
    status: HttpStatus.BAD_REQUEST,
    message: 'Invalid request',
  },
  malformedJson: {
    code: 'request.malformed_json',
    status: HttpStatus.BAD_REQUEST,
    message: 'The request body is not valid JSON',
  },
  payloadTooLarge: {
    code: 'request.too_large',
    status: HttpStatus.PAYLOAD_TOO_LARGE,
    message: 'The request body is too large',
  },
  tooDeep: {
    code: 'request.too_deep',
    status: HttpStatus.BAD_REQUEST,
    message: 'The request body nests too deeply',
  },
  unsupportedCharset: {
    code: 'request.unsupported_charset',
    status: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
    message: 'JSON request bodies must be UTF-8',
  },
  unsupportedMediaType: {
    code: 'request.unsupported_media_type',
    status: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
    message: 'The body has an unsupported content type, charset or content encoding',
  },
  rateLimited: {
    code: 'request.rate_limited',
    status: HttpStatus.TOO_MANY_REQUESTS,
    message: 'Too many attempts; retry after `Retry-After` seconds',
  },
  invalidCursor: {
    code: 'request.invalid_cursor',
    status: HttpStatus.BAD_REQUEST,
    message: 'The cursor is invalid',
  },
  notFound: { code: 'route.not_found', status: HttpStatus.NOT_FOUND, message: 'Not found' },
  serviceUnavailable: {
    code: 'service.unavailable',
    status: HttpStatus.SERVICE_UNAVAILABLE,
    message: 'The service is temporarily unavailable; try again shortly',
  },
  internal: {
    code: 'internal',
    status: HttpStatus.INTERNAL_SERVER_ERROR,
    message: 'Internal server error',
  },
});
