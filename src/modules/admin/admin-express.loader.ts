import AdminJSExpress from '@adminjs/express';
import { ExpressLoader, type AdminModuleOptions } from '@adminjs/nestjs';
import { Injectable } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import type AdminJS from 'adminjs';
import express, { type NextFunction, type Request, type Response } from 'express';
import formidableMiddleware from 'express-formidable';
import { randomBytes } from 'node:crypto';
import { StaffErrors } from '../../common/auth/staff.js';
import { CommonErrors } from '../../common/errors/common.errors.js';
import { AppConfig } from '../../config/app-config.js';
import {
  crossOriginRefusal,
  nulCharacterRefusal,
  toAdminHttpError,
  unsupportedBody,
} from './admin-http.js';
import { AdminErrors } from './admin.errors.js';
import { securePanelPage, withScriptNonce } from './admin-page.js';
import { AdminPanelHost } from './admin-panel.host.js';
import { isSupportRead } from './admin-staff-access.js';

/** Same limit as the API's JSON and form bodies (JSON_BODY_LIMIT in app.setup.ts). */
export const ADMIN_BODY_LIMIT_BYTES = 100 * 1024;

/** An error the app's exception filter renders like body-parser's (413 `request.too_large`...). */
function bodyError(status: number, type: string, message: string): Error {
  return Object.assign(new Error(message), { status, type, expose: true });
}

/**
 * AdminJS parses every POST under /admin with express-formidable before its auth check, and
 * formidable buffers urlencoded/JSON bodies without any size limit. Bodies are therefore
 * bounded here by Content-Length, before the router (browsers always send it for forms).
 */
function refuseBody(req: Request): Error | undefined {
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  const header = req.headers['content-length'];
  if (header === undefined) {
    return req.headers['transfer-encoding'] === undefined
      ? undefined
      : bodyError(411, 'length.required', 'Content-Length is required');
  }
  return Number(header) > ADMIN_BODY_LIMIT_BYTES
    ? bodyError(413, 'entity.too.large', 'Request body too large')
    : undefined;
}

interface FormidableForm {
  handlePart(part: { filename?: string }): void;
  _error(error: Error): void;
}

/** The panel has no uploads: a file part is refused before formidable writes it to disk. */
function onPart(this: FormidableForm, part: { filename?: string }): void {
  if (part.filename !== undefined) {
    this._error(bodyError(415, 'upload.refused', 'File uploads are not accepted'));
    return;
  }
  this.handlePart(part);
}

type Middleware = (req: Request, res: Response, next: NextFunction) => void;

/**
 * A CSP nonce for this response, in its script-src instead of the app's `'unsafe-inline'`, and
 * every page AdminJS sends (res.send of its rendered HTML) passed through `securePanelPage`:
 * its embedded state escaped, its own inline scripts given the nonce (admin-page.ts).
 */
function securePages(res: Response): void {
  const nonce = randomBytes(16).toString('base64');
  const csp = res.getHeader('Content-Security-Policy');
  res.setHeader('Content-Security-Policy', withScriptNonce(String(csp ?? ''), nonce));
  const send = res.send.bind(res);
  res.send = ((body?: unknown) =>
    send(typeof body === 'string' ? securePanelPage(body, nonce) : body)) as Response['send'];
}

/**
 * The request's resource and action must exist (AdminJS answers an unknown one with a
 * TypeError, i.e. a 500). Runs after the sign-in check, so anonymous visitors learn nothing.
 */
function knownResourceGate(admin: AdminJS): Middleware {
  const actionsOf = (resourceId: string): Record<string, unknown> | undefined =>
    admin.resources.find((r) => r._decorated?.id() === resourceId)?.decorate().actions;
  const gate = express.Router();
  const check =
    (withAction: boolean): Middleware =>
    (req, _res, next) => {
      const { resourceId, action } = req.params as { resourceId: string; action?: string };
      const actions = actionsOf(resourceId);
      const known =
        actions !== undefined &&
        (!withAction || (action !== undefined && Object.hasOwn(actions, action)));
      next(known ? undefined : AdminErrors.unknownResource());
    };
  gate.all(
    [
      '/api/resources/:resourceId/actions/:action{/:query}',
      '/api/resources/:resourceId/records/:recordId/:action',
      '/api/resources/:resourceId/bulk/:action',
      '/resources/:resourceId/actions/:action',
      '/resources/:resourceId/records/:recordId/:action',
      '/resources/:resourceId/bulk/:action',
    ],
    check(true),
  );
  gate.all(['/api/resources/:resourceId/search{/:query}', '/resources/:resourceId'], check(false));
  return gate;
}

/**
 * The second, deny-by-default check behind the actions' `isAccessible`: a signed-in session
 * whose role is not `admin` (support staff) gets 403 `admin.read_only` for anything but its
 * reads (`isSupportRead`: GET pages, dashboard, list/search/show), before AdminJS runs
 * anything: every other action name, custom ones included, any POST, any page not listed. The
 * role is the one AdminSessionStore just read from users.role.
 */
function staffRoleGate(): Middleware {
  return (req, _res, next) => {
    const role = req.session.adminUser?.role;
    if (role === 'admin' || isSupportRead(req.method, req.path)) {
      next();
      return;
    }
    next(StaffErrors.readOnly());
  };
}

/** A layer of an Express router: a `router.use` middleware has no route. */
interface RouterLayer {
  name: string;
  route?: unknown;
}

const SIGN_IN_CHECK = 'authorizedRoutesMiddleware';

/**
 * Where AdminJS's sign-in check sits in @adminjs/express's authenticated router: the first
 * middleware after its first route. `buildAuthenticatedRouter` adds three middlewares (body
 * check, session, form parser), then its routes (login, logout, assets), then the check
 * (`withProtectedRoutesHandler`), then the panel's routes. Found by position, not by the
 * check's function name, because the production bundle does not keep the names of closures
 * (src/cli/bundle.ts); wherever the name is kept (the unbundled build the tests run), it must
 * be the check's, so a reordering upstream fails loudly.
 */
function signInCheckIndex(stack: readonly RouterLayer[]): number {
  const firstRoute = stack.findIndex((layer) => layer.route !== undefined);
  const index = firstRoute < 0 ? -1 : stack.findIndex((layer, i) => i > firstRoute && !layer.route);
  const name = stack[index]?.name;
  // Express names a layer after its function, or `<anonymous>`.
  if (index < 0 || (name !== '<anonymous>' && name !== SIGN_IN_CHECK)) {
    throw new Error(`AdminJS router: sign-in check not found (found ${name ?? 'nothing'})`);
  }
  return index;
}

/** Puts `middleware` into AdminJS's router right after its sign-in check. */
function insertAfterSignInCheck(router: express.Router, middleware: Middleware): void {
  const stack = (router as unknown as { stack: RouterLayer[] }).stack;
  const signInCheck = signInCheckIndex(stack);
  router.use(middleware);
  const added = stack.pop();
  if (added) stack.splice(signInCheck + 1, 0, added);
}

/**
 * The API runs on Fastify; AdminJS only mounts on Express. So the panel gets an Express app of
 * its own (`trust proxy` as the API's), handed to AdminPanelHost, which the app's request hook
 * calls for /admin and everything under it, in front of Fastify's body parsers and routing:
 * after the security headers, X-Request-Id, metrics and the request's logging context, so
 * every /admin response gets the security headers and the request id, and every admin
 * request a log line. Fastify never reads an /admin body: the panel has answered before.
 * What the panel does not answer (an unknown /admin path) goes back to Fastify, which answers
 * 404; its errors go back too, to the API's exception filter (the API's error shape, logged
 * with the request id).
 *
 * In front of AdminJS's router: the panel's CSP nonce and page escaping (securePages), the
 * same-origin check for every request but a GET, the body gate (size, content type), the form
 * parse (the router's own parser then skips) and the NUL check; behind it, AdminJS's errors
 * mapped to 4xx where they are the client's.
 */
@Injectable()
export class AdminExpressLoader extends ExpressLoader {
  constructor(
    private readonly config: AppConfig,
    private readonly host: AdminPanelHost,
  ) {
    super();
  }

  override register(
    admin: AdminJS,
    _httpAdapter: AbstractHttpAdapter,
    options: AdminModuleOptions,
  ): Promise<void> {
    if (!options.auth) throw new Error('The admin panel is always mounted with authentication');
    const formidableOptions = {
      ...options.formidableOptions,
      maxFieldsSize: ADMIN_BODY_LIMIT_BYTES,
      maxFields: 200,
      onPart,
    };
    const router = AdminJSExpress.buildAuthenticatedRouter(
      admin,
      options.auth,
      undefined,
      options.sessionOptions,
      formidableOptions,
    );
    insertAfterSignInCheck(router, knownResourceGate(admin));
    // Inserted last, so it runs first: support staff are refused before anything else.
    insertAfterSignInCheck(router, staffRoleGate());
    const parseForm: Middleware = formidableMiddleware(formidableOptions);
    const appOrigin = new URL(this.config.appUrl).origin;
    const rootPath = options.adminJsOptions.rootPath ?? '/admin';

    const panel = express();
    panel.disable('x-powered-by');
    panel.set('trust proxy', this.config.trustProxy);
    panel.use(rootPath, function admin(req: Request, res: Response, next: NextFunction) {
      const fail = (error: unknown): void => next(toAdminHttpError(error));
      // Express matches /ADMIN too, but the session cookie (Path=/admin) would not be read.
      if (req.baseUrl !== rootPath) {
        fail(CommonErrors.notFound());
        return;
      }
      // The API's no-referrer makes browsers send `Origin: null` on the panel's own form
      // posts; same-origin keeps the real origin for us and still sends nothing elsewhere.
      res.setHeader('Referrer-Policy', 'same-origin');
      securePages(res);
      const crossOrigin = crossOriginRefusal(req, appOrigin);
      if (crossOrigin !== undefined) {
        fail(AdminErrors.crossSiteRequest(undefined, [{ message: crossOrigin }]));
        return;
      }
      const refusal = refuseBody(req) ?? unsupportedBody(req);
      if (refusal) {
        fail(refusal);
        return;
      }
      let parsed = false;
      parseForm(req, res, (parseError?: unknown) => {
        // express-formidable can report one failure twice (error event and callback).
        if (parsed) return;
        parsed = true;
        if (parseError !== undefined) {
          const status = (parseError as { status?: unknown }).status;
          fail(typeof status === 'number' ? parseError : AdminErrors.malformedBody());
          return;
        }
        const nul = nulCharacterRefusal(req as Request & { fields?: unknown });
        if (nul) {
          fail(nul);
          return;
        }
        router(req, res, (error?: unknown) => (error === undefined ? next() : fail(error)));
      });
    });
    // AdminPanelHost mounted its handler at start-up (behind the app's request hook) and passes
    // /admin requests on to this from now on. Unanswered (next()) or failed (next(error)): back
    // to Fastify, as said above.
    this.host.attach((req, res, next) => panel(req as Request, res as Response, next));
    return Promise.resolve();
  }
}
