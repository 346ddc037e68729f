import { describe, expect, it } from '@jest/globals';
import { stripVTControlCharacters } from 'node:util';
import { pino } from 'pino';
import { prettyDestination, prettyMessage } from './pretty-log.js';

/** A pretty logger at trace writing into `text`, colours off. */
async function capture(): Promise<{ logger: pino.Logger; text: string[] }> {
  const text: string[] = [];
  const destination = await prettyDestination({
    write: (chunk: string) => text.push(stripVTControlCharacters(chunk)),
  });
  return { logger: pino({ level: 'trace' }, destination), text };
}

describe('prettyMessage', () => {
  it("writes a request's own line as the request: method, URL, status, code, caller, time", () => {
    const line = {
      msg: 'request completed',
      req: { id: 'r1', method: 'GET', url: '/api/v1/teams/9' },
      res: { statusCode: 404 },
      responseTime: 3,
      code: 'team.not_found',
      userId: 12,
    };
    expect(prettyMessage(line, 'msg')).toBe('GET /api/v1/teams/9 404 team.not_found user 12 3 ms');
    expect(
      prettyMessage({ msg: 'request aborted', req: line.req, responseTime: 8, apiKeyId: 4 }, 'msg'),
    ).toBe('request aborted: GET /api/v1/teams/9 key 4 8 ms');
  });

  it('puts the context before any other message', () => {
    expect(prettyMessage({ msg: 'ready', context: 'Bootstrap' }, 'msg')).toBe('[Bootstrap] ready');
    expect(prettyMessage({ msg: 'plain' }, 'msg')).toBe('plain');
  });
});

describe('prettyDestination', () => {
  it('writes one readable line per entry at once, not JSON, with the level and the time', async () => {
    const { logger, text } = await capture();
    logger.info({ context: 'Bootstrap' }, 'ready in 900 ms');
    logger.warn(
      {
        req: { id: 'r1', method: 'POST', url: '/api/v1/teams' },
        res: { statusCode: 409 },
        responseTime: 5,
        code: 'team.slug_taken',
        userId: 7,
      },
      'request completed',
    );
    expect(text).toHaveLength(2);
    expect(text[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[Bootstrap\] ready in 900 ms\n$/);
    expect(text[1]).toMatch(
      /^\[[\d:.]+\] WARN: POST \/api\/v1\/teams 409 team\.slug_taken user 7 5 ms\n$/,
    );
    expect(() => {
      JSON.parse(text[0]!);
    }).toThrow();
  });

  it("prints an error's message and stack below its line", async () => {
    const { logger, text } = await capture();
    logger.error({ context: 'ExceptionFilter', err: new Error('boom') }, 'Unhandled error');
    expect(text[0]).toContain('[ExceptionFilter] Unhandled error');
    expect(text[0]).toContain('Error: boom');
    expect(text[0]).toContain('pretty-log.spec');
  });
});
