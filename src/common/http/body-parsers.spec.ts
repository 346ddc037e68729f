import { describe, expect, it } from '@jest/globals';
import type { FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { AppError } from '../errors/app-error.js';
import {
  FORM_BODY_ROUTE,
  inflate,
  parseFormBody,
  parseJsonBody,
  refuseBody,
} from './body-parsers.js';

function request(contentType: string, url = '/api/v1/x'): FastifyRequest & { rawBody?: Buffer } {
  return {
    headers: { 'content-type': contentType },
    raw: { url, headers: { 'content-type': contentType } },
  } as unknown as FastifyRequest & { rawBody?: Buffer };
}

function run(
  parser: typeof parseJsonBody,
  body: string | Buffer,
  contentType = 'application/json',
  url?: string,
): { error: Error | null; body?: unknown; rawBody?: Buffer } {
  const req = request(contentType, url);
  let result: { error: Error | null; body?: unknown } | undefined;
  parser(req, Buffer.isBuffer(body) ? body : Buffer.from(body), (error, parsed) => {
    result = { error, body: parsed };
  });
  if (!result) throw new Error('the parser did not complete synchronously');
  return { ...result, rawBody: req.rawBody };
}

const codeOf = (error: Error | null) => (error instanceof AppError ? error.code : error);

describe('parseJsonBody', () => {
  it('parses UTF-8 JSON and keeps the raw bytes', () => {
    const out = run(parseJsonBody, '{"a":[1,{"b":"ü"}]}', 'application/json; charset=UTF-8');
    expect(out).toEqual({
      error: null,
      body: { a: [1, { b: 'ü' }] },
      rawBody: Buffer.from('{"a":[1,{"b":"ü"}]}'),
    });
  });

  it('treats an empty body as {} and drops a byte order mark, as body-parser did', () => {
    expect(run(parseJsonBody, '').body).toEqual({});
    expect(run(parseJsonBody, '\uFEFF{"a":1}').body).toEqual({ a: 1 });
  });

  it('keeps __proto__ as an ordinary own key (for the validation pipe to refuse)', () => {
    const { body } = run(parseJsonBody, '{"__proto__":{"role":"admin"}}');
    expect(Object.keys(body as object)).toEqual(['__proto__']);
    expect(({} as { role?: string }).role).toBeUndefined();
  });

  it('refuses other charsets, deep nesting, non-object tops and invalid JSON', () => {
    expect(codeOf(run(parseJsonBody, '{}', 'application/json; charset=utf-16le').error)).toBe(
      'request.unsupported_charset',
    );
    expect(codeOf(run(parseJsonBody, '{}', 'application/json; charset=latin1').error)).toBe(
      'request.unsupported_media_type',
    );
    expect(codeOf(run(parseJsonBody, '['.repeat(33) + ']'.repeat(33)).error)).toBe(
      'request.too_deep',
    );
    for (const text of ['"text"', '12', 'null', '  ', '{"a":']) {
      expect({ text, code: codeOf(run(parseJsonBody, text).error) }).toEqual({
        text,
        code: 'request.malformed_json',
      });
    }
  });

  it('leaves /admin bodies alone (the panel parses its own)', () => {
    expect(run(parseJsonBody, '{"a":1}', 'application/json', '/ADMIN/api/x')).toEqual({
      error: null,
      body: undefined,
      rawBody: undefined,
    });
  });
});

describe('refuseBody', () => {
  it('refuses a non-empty body of any other type with 415, naming a sane type', () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']) {
      const { error } = run(refuseBody, 'a=1', `${type}; charset=utf-8`);
      expect({ type, code: codeOf(error), message: error?.message }).toEqual({
        type,
        code: 'request.unsupported_media_type',
        message: `Content type "${type}" is not accepted: send application/json`,
      });
    }
    // Nothing the client wrote that is not a media type is echoed back.
    expect(run(refuseBody, 'a=1', '<script>alert(1)</script>').error?.message).toBe(
      'A body without a valid content type is not accepted: send application/json',
    );
  });

  it('lets an empty body, and anything under /admin (the panel reads its own), through unread', () => {
    expect(run(refuseBody, '', 'text/plain')).toEqual({
      error: null,
      body: undefined,
      rawBody: undefined,
    });
    expect(run(refuseBody, 'a=1', 'application/x-www-form-urlencoded', '/Admin/login')).toEqual({
      error: null,
      body: undefined,
      rawBody: undefined,
    });
  });
});

describe('inflate', () => {
  const raw = (encoding?: string) =>
    ({
      headers: encoding === undefined ? {} : { 'content-encoding': encoding },
    }) as IncomingMessage;

  it('passes identity through and inflates gzip, counting the bytes received', async () => {
    const plain = new PassThrough();
    expect(inflate(raw(), plain)).toBe(plain);
    const zipped = gzipSync('{"a":1}');
    const source = new PassThrough();
    const out = inflate(raw('GZIP'), source) as PassThrough & { receivedEncodedLength: number };
    source.end(zipped);
    const chunks: Buffer[] = [];
    for await (const chunk of out) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('{"a":1}');
    expect(out.receivedEncodedLength).toBe(zipped.length);
  });

  it('refuses an unknown content encoding with 415', () => {
    expect(() => inflate(raw('zstd'), new PassThrough())).toThrow(
      expect.objectContaining({ code: 'request.unsupported_media_type' }),
    );
  });
});

describe('parseFormBody', () => {
  function form(
    body: string,
    config: object | undefined,
    contentType = 'application/x-www-form-urlencoded',
  ) {
    const req = { ...request(contentType), routeOptions: { config } } as unknown as FastifyRequest;
    let result: { error: Error | null; body?: unknown } | undefined;
    parseFormBody(req, Buffer.from(body), (error, parsed) => {
      result = { error, body: parsed };
    });
    return result!;
  }

  it('reads the form on a route that opts in (the SAML ACS)', () => {
    expect(form('SAMLResponse=PHg%2BPC94Pg%3D%3D&RelayState=7', FORM_BODY_ROUTE)).toEqual({
      error: null,
      body: { SAMLResponse: 'PHg+PC94Pg==', RelayState: '7' },
    });
  });

  it('refuses it (415) everywhere else, and a charset other than UTF-8', () => {
    expect(codeOf(form('a=1', undefined).error)).toBe('request.unsupported_media_type');
    expect(codeOf(form('a=1', { formBody: false }).error)).toBe('request.unsupported_media_type');
    expect(
      codeOf(
        form('a=1', FORM_BODY_ROUTE, 'application/x-www-form-urlencoded; charset=latin1').error,
      ),
    ).toBe('request.unsupported_charset');
  });
});
