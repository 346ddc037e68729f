import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { AppLogger, RequestLogContext, requestLogContext } from './app-logger.js';
import { requestLogLevel } from './request-log.js';

/** A pino logger at `level` writing into `lines`, parsed. */
function capture(level = 'trace'): { root: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const root = pino(
    { level },
    { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { root, lines };
}

describe('AppLogger', () => {
  it("maps Nest's levels and puts the last parameter in `context`", () => {
    const { root, lines } = capture();
    const logger = new AppLogger(root);
    logger.log('started', 'Bootstrap');
    logger.warn('slow', 'Db');
    logger.verbose('detail', 'X');
    logger.debug('dbg');
    logger.fatal('down', 'Y');
    expect(lines.map((l) => [l.level, l.msg, l.context])).toEqual([
      [30, 'started', 'Bootstrap'],
      [40, 'slow', 'Db'],
      [10, 'detail', 'X'],
      [20, 'dbg', undefined],
      [60, 'down', 'Y'],
    ]);
  });

  it("logs an Error as `err`, merges an object, and reads Nest's (message, stack, context)", () => {
    const { root, lines } = capture();
    const logger = new AppLogger(root);
    logger.error(new Error('boom'), 'Filter');
    logger.log({ rows: 3, resource: 'users' }, 'Export');
    logger.error('failed', 'Error: failed\n    at somewhere (file.js:1:1)', 'Nest');
    logger.error('plain', 'Ctx');
    expect(lines[0]).toMatchObject({ level: 50, context: 'Filter', err: { message: 'boom' } });
    expect(lines[1]).toMatchObject({ level: 30, context: 'Export', rows: 3, resource: 'users' });
    expect(lines[2]).toMatchObject({
      level: 50,
      context: 'Nest',
      err: { message: 'failed', stack: 'Error: failed\n    at somewhere (file.js:1:1)' },
    });
    expect(lines[3]).toMatchObject({ level: 50, context: 'Ctx', msg: 'plain' });
  });

  it("writes through the request's logger inside a request, its `req` on the line", async () => {
    const { root, lines } = capture();
    const logger = new AppLogger(root);
    const req = { id: 'req-1', method: 'GET', url: '/api/v1/x' };
    await requestLogContext.run(new RequestLogContext(root, req), async () => {
      await Promise.resolve();
      logger.log('inside', 'Probe');
    });
    logger.log('outside', 'Probe');
    expect(lines[0]).toMatchObject({ msg: 'inside', req });
    expect(lines[1]).toMatchObject({ msg: 'outside' });
    expect(lines[1]).not.toHaveProperty('req');
  });

  it("writes Nest's start-up lines at debug, its other lines as they are", () => {
    const { root, lines } = capture();
    const logger = new AppLogger(root);
    for (const context of [
      'NestFactory',
      'InstanceLoader',
      'RoutesResolver',
      'RouterExplorer',
      'NestApplication',
    ]) {
      logger.log('narration', context);
    }
    logger.warn('a warning', 'RouterExplorer');
    logger.log('ready', 'Bootstrap');
    expect(lines.map((l) => [l.level, l.context])).toEqual([
      [20, 'NestFactory'],
      [20, 'InstanceLoader'],
      [20, 'RoutesResolver'],
      [20, 'RouterExplorer'],
      [20, 'NestApplication'],
      [40, 'RouterExplorer'],
      [30, 'Bootstrap'],
    ]);
  });

  it('writes nothing below the level', () => {
    const { root, lines } = capture('warn');
    const logger = new AppLogger(root);
    logger.log('quiet');
    logger.debug('quiet');
    logger.warn('loud');
    expect(lines.map((l) => l.msg)).toEqual(['loud']);
  });
});

describe('requestLogLevel', () => {
  it('is info below 400, warn for 4xx and 503, error for other 5xx', () => {
    expect([200, 302, 400, 404, 429, 500, 502, 503].map(requestLogLevel)).toEqual([
      'info',
      'info',
      'warn',
      'warn',
      'warn',
      'error',
      'error',
      'warn',
    ]);
  });
});
