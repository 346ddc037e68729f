import { Global, Injectable, Logger, Module, type OnModuleDestroy } from '@nestjs/common';
import { LazyModuleLoader, type ModuleRef } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
// Sets AdminJS's bundle folder at start-up, before the panel (and adminjs) can load.
import './admin-bundle.js';
import { isAdminRequest } from '../../common/http/admin-path.js';
import { AdminErrors } from './admin.errors.js';
import type { AppConfig } from '../../config/app-config.js';

/**
 * Whether the app mounts the panel's host: AppModule imports AdminPanelHostModule, and the
 * app's request hook calls the host, exactly when this is true (ADMIN_PANEL is not false; no
 * config, as in the OpenAPI preview, mounts it).
 */
export function adminPanelMounted(config: Pick<AppConfig, 'adminPanel'> | undefined): boolean {
  return config?.adminPanel !== false;
}

/** A connect-style handler: how the app's request hook hands a request to the panel. */
export type PanelHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/** The part of @adminjs/nestjs's AdminModule the host drives (its lifecycle hook). */
interface AdminModuleLike {
  onModuleInit(): Promise<void>;
}

/**
 * The back office at /admin, loaded on its first request instead of at start-up.
 *
 * Unbundled, AdminJS imports its whole React front end, a bundler (rollup, babel) and a
 * design system on the server: about 1 s and 55 MB (the production bundle leaves those out:
 * about 0.2 s and 5 MB, src/cli/bundle.ts), which an API instance that no one opens the panel
 * on never needs. So the app mounts only this light handler; the first
 * /admin request loads the admin module (Nest's LazyModuleLoader, into the same container: the
 * same services, pool and config), runs @adminjs/nestjs's initialisation, whose loader hands
 * the finished router back here (`attach`), and every request from then on goes straight to
 * it. Requests that arrive while it loads wait for the same load. A failed load answers 503
 * `admin.unavailable` and the next request tries again.
 */
@Injectable()
export class AdminPanelHost implements OnModuleDestroy {
  private readonly logger = new Logger('AdminPanel');
  private handler: PanelHandler | undefined;
  private loading: Promise<PanelHandler> | undefined;
  private closed = false;
  /** The loaded panel's own destroy hooks (Nest runs none for a lazily loaded module). */
  private unload: (() => void) | undefined;
  /** Closes the panel's HTTP instance (its plugins' close hooks). */
  private closePanel: (() => Promise<unknown>) | undefined;

  constructor(private readonly lazyModules: LazyModuleLoader) {}

  /**
   * Called by the app's request hook (configureApp) for every request: /admin and everything
   * under it goes to the panel (its Fastify instance routes under /admin itself, so it sees
   * the whole URL), anything else straight on. `next()` hands a request the panel did not answer
   * back to Fastify (404), `next(error)` an error to the API's exception filter.
   */
  route(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void {
    if (isAdminRequest(req)) this.handle(req, res, next);
    else next();
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    this.unload?.();
    this.unload = undefined;
    await this.closePanel?.();
    this.closePanel = undefined;
  }

  /** True once the panel has been loaded (and its memory paid for) in this process. */
  get loaded(): boolean {
    return this.handler !== undefined;
  }

  /**
   * Called by the panel's loader with its router (and how to close it); the pending requests
   * then go on to it.
   */
  attach(handler: PanelHandler, close?: () => Promise<unknown>): void {
    this.handler = handler;
    this.closePanel = close;
  }

  /** Loads the panel once: concurrent first requests share the load, a failed one is retried. */
  private load(): Promise<PanelHandler> {
    if (this.handler) return Promise.resolve(this.handler);
    this.loading ??= this.loadOnce().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private readonly handle: PanelHandler = (req, res, next) => {
    if (this.handler) {
      this.handler(req, res, next);
      return;
    }
    if (this.closed) {
      next(AdminErrors.unavailable());
      return;
    }
    this.load().then(
      (handler) => handler(req, res, next),
      () => next(AdminErrors.unavailable()),
    );
  };

  private async loadOnce(): Promise<PanelHandler> {
    const startedAt = performance.now();
    try {
      const [{ AdminPanelModule, AdminSessions }, { AdminModule }] = await Promise.all([
        import('./admin.module.js'),
        import('@adminjs/nestjs'),
      ]);
      const moduleRef: ModuleRef = await this.lazyModules.load(() => AdminPanelModule, {
        logger: false,
      });
      // Lazily loaded modules get no lifecycle hooks from Nest: run @adminjs/nestjs's own
      // initialisation, which builds AdminJS and calls our loader's register(), which attaches
      // the router here.
      const adminModule = moduleRef.get<AdminModuleLike>(AdminModule, { strict: false });
      // Nest's close() runs the destroy hooks of the modules it knew at init only: the panel's
      // one hook (the session store's prune timer) is run by ours.
      const sessions = moduleRef.get(AdminSessions, { strict: false });
      this.unload = () => sessions.onModuleDestroy();
      await adminModule.onModuleInit();
      if (this.handler === undefined) throw new Error('the admin loader attached no router');
      this.logger.log(`admin panel loaded in ${Math.round(performance.now() - startedAt)} ms`);
      return this.handler;
    } catch (error) {
      this.logger.error(
        `admin panel failed to load: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      throw error;
    }
  }
}

/**
 * Imported by AppModule unless ADMIN_PANEL=false; global so that the panel's loader, built by
 * @adminjs/nestjs inside its own dynamic module, can reach the host.
 */
@Global()
@Module({ providers: [AdminPanelHost], exports: [AdminPanelHost] })
export class AdminPanelHostModule {}
