import { describe, expect, it } from '@jest/globals';
import type { LazyModuleLoader } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '../../common/errors/app-error.js';
import { AdminPanelHost, type PanelHandler } from './admin-panel.host.js';

/** A LazyModuleLoader whose loads fail `failures` times, then run `onInit` (the admin init). */
function fakeLoader(
  failures: number,
  onInit: () => void,
): { loader: LazyModuleLoader; loads: () => number; destroyed: () => number } {
  let loads = 0;
  let destroyed = 0;
  const loader = {
    load: () => {
      loads += 1;
      if (loads <= failures) return Promise.reject(new Error('database unreachable'));
      return Promise.resolve({
        get: () => ({
          onModuleInit: () => {
            onInit();
            return Promise.resolve();
          },
          onModuleDestroy: () => {
            destroyed += 1;
          },
        }),
      });
    },
  } as unknown as LazyModuleLoader;
  return { loader, loads: () => loads, destroyed: () => destroyed };
}

/** One request to `url` through the host's `route`; resolves with what it passed to next(). */
function call(handler: PanelHandler, url = '/admin/login'): Promise<unknown> {
  return new Promise((resolve) => {
    handler({ url } as IncomingMessage, {} as ServerResponse, (error?: unknown) => resolve(error));
  });
}

describe('AdminPanelHost', () => {
  const panelAnswer = Symbol('served by the panel');
  const panel: PanelHandler = (_req, _res, next) => next(panelAnswer);

  function setUp(failures: number) {
    const ref: { host?: AdminPanelHost } = {};
    const fake = fakeLoader(failures, () => ref.host?.attach(panel));
    const host = new AdminPanelHost(fake.loader);
    ref.host = host;
    return {
      host,
      handler: host.route.bind(host),
      loads: fake.loads,
      destroyed: fake.destroyed,
    };
  }

  it('passes every other path on and loads nothing for them', async () => {
    const { host, handler, loads } = setUp(0);
    for (const url of ['/api/v1/users/me', '/administrator', '/docs', '/health/ready']) {
      expect(await call(handler, url)).toBeUndefined();
    }
    expect(host.loaded).toBe(false);
    expect(loads()).toBe(0);
    expect(await call(handler, '/admin')).toBe(panelAnswer);
    expect(await call(handler, '/admin?x=1')).toBe(panelAnswer);
    expect(loads()).toBe(1);
  });

  it('loads once for concurrent requests, then serves every request from the panel', async () => {
    const { host, handler, loads } = setUp(0);
    const answers = await Promise.all([call(handler), call(handler), call(handler)]);
    expect(answers).toEqual([panelAnswer, panelAnswer, panelAnswer]);
    expect(loads()).toBe(1);
    expect(host.loaded).toBe(true);
    expect(await call(handler)).toBe(panelAnswer);
    expect(loads()).toBe(1);
  });

  it('answers 503 admin.unavailable when the load fails, and the next request tries again', async () => {
    const { handler, loads } = setUp(1);
    const failed = await call(handler);
    expect(failed).toBeInstanceOf(AppError);
    expect((failed as AppError).code).toBe('admin.unavailable');
    expect((failed as AppError).status).toBe(503);
    expect(await call(handler)).toBe(panelAnswer);
    expect(loads()).toBe(2);
  });

  it("runs the loaded panel's destroy hook when the app closes (Nest does not, for a lazy module)", async () => {
    const { host, handler, destroyed } = setUp(0);
    await host.onModuleDestroy();
    expect(destroyed()).toBe(0);
    const { host: loadedHost, handler: loadedHandler, destroyed: loadedDestroyed } = setUp(0);
    await call(loadedHandler);
    await loadedHost.onModuleDestroy();
    await loadedHost.onModuleDestroy();
    expect(loadedDestroyed()).toBe(1);
    expect(((await call(handler)) as AppError).code).toBe('admin.unavailable');
  });

  it('answers 503 once the app is shutting down instead of starting a load', async () => {
    const { host, handler, loads } = setUp(0);
    await host.onModuleDestroy();
    expect(((await call(handler)) as AppError).code).toBe('admin.unavailable');
    expect(loads()).toBe(0);
  });
});
