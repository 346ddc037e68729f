import { describe, expect, it } from '@jest/globals';
import {
  BadRequestException,
  ForbiddenException,
  HttpStatus,
  NotFoundException,
} from '@nestjs/common';
import { toErrorResponse } from './all-exceptions.filter.js';
import { AppError, defineErrors } from './app-error.js';

describe('toErrorResponse', () => {
  it('renders a coded AppError with its details', () => {
    const { body, unexpected } = toErrorResponse(
      new AppError('team.last_owner', HttpStatus.CONFLICT, 'A team must keep an owner', [
        { message: 'x' },
      ]),
    );
    expect(unexpected).toBe(false);
    expect(body).toEqual({
      statusCode: 409,
      error: 'Conflict',
      code: 'team.last_owner',
      message: 'A team must keep an owner',
      details: [{ message: 'x' }],
    });
  });

  it('gives Nest HTTP exceptions a code from their status', () => {
    expect(toErrorResponse(new NotFoundException('Cannot GET /x')).body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      code: 'route.not_found',
      message: 'Cannot GET /x',
    });
    expect(toErrorResponse(new ForbiddenException()).body.code).toBe('auth.forbidden');
  });

  it('maps body-parser failures wrapped by the Express adapter', () => {
    const cause = Object.assign(new Error('too big'), { type: 'entity.too.large', status: 413 });
    expect(toErrorResponse(new BadRequestException('x', { cause })).body).toMatchObject({
      statusCode: 413,
      code: 'request.too_large',
    });
  });

  it("maps Fastify's client errors (FST_ERR_*) into the API's codes; its other errors are a 500", () => {
    const fastifyError = (code: string, statusCode: number) =>
      Object.assign(new Error(`fastify says ${code}`), { code, statusCode });
    const cases: [string, number, number, string][] = [
      ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 413, 'request.too_large'],
      ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 415, 'request.unsupported_media_type'],
      ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, 400, 'request.malformed_json'],
      ['FST_ERR_BAD_URL', 400, 400, 'request.invalid'],
      ['FST_ERR_CTP_INVALID_CONTENT_LENGTH', 400, 400, 'request.invalid'],
      ['FST_ERR_SOMETHING_NEW', 405, 405, 'request.method_not_allowed'],
      ['FST_ERR_REP_ALREADY_SENT', 500, 500, 'internal'],
    ];
    for (const [code, statusCode, status, apiCode] of cases) {
      const rendered = toErrorResponse(fastifyError(code, statusCode));
      expect({ code, status: rendered.body.statusCode, apiCode: rendered.body.code }).toEqual({
        code,
        status,
        apiCode,
      });
      // Fastify's own wording (with its code) never reaches the client.
      expect(rendered.body.message).not.toContain('fastify says');
    }
  });

  it("a body that cannot be inflated (zlib) is the client's 400, not a 500", () => {
    const zlib = Object.assign(new Error('incorrect header check'), { code: 'Z_DATA_ERROR' });
    expect(toErrorResponse(zlib)).toMatchObject({
      unexpected: false,
      body: { statusCode: 400, code: 'request.invalid' },
    });
  });

  it('answers 503 service.unavailable with Retry-After when the database is unreachable', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    const rendered = toErrorResponse(
      new Error('Failed query: select 1\nparams: ', { cause: refused }),
    );
    expect(rendered).toMatchObject({ unexpected: false, unavailable: true, retryAfterSeconds: 5 });
    expect(rendered.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'service.unavailable',
      message: 'The service is temporarily unavailable; try again shortly',
    });
  });

  it('hides unknown errors behind a generic 500 and flags them for logging', () => {
    const { body, unexpected } = toErrorResponse(new TypeError('secret internals'));
    expect(unexpected).toBe(true);
    expect(body).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      code: 'internal',
      message: 'Internal server error',
    });
  });

  it('defineErrors builds factories with stable codes', () => {
    const Errors = defineErrors({
      gone: { code: 'thing.gone', status: HttpStatus.GONE, message: 'Gone' },
    });
    const error = Errors.gone();
    expect(error).toBeInstanceOf(AppError);
    expect([error.code, error.status, error.message]).toEqual(['thing.gone', 410, 'Gone']);
    expect(Errors.gone('Custom').message).toBe('Custom');
    expect(Errors.codes.gone).toBe('thing.gone');
  });
});
