import AdminJSFastify from '@adminjs/fastify';
import { AbstractLoader, type AdminModuleOptions } from '@adminjs/nestjs';
import { Injectable } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { Router as AdminRouter, type default as AdminJS } from 'adminjs';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StaffErrors } from '../../common/auth/staff.js';
import { AppError } from '../../common/errors/app-error.js';
import { CommonErrors } from '../../common/errors/common.errors.js';
import { requestIdOf } from '../../common/http/request-id.js';
import { fastifyTrustProxy } from '../../common/http/trust-proxy.js';
import { AppConfig } from '../../config/app-config.js';
import { AdminLoginSecondFactorError, AdminLoginThrottledError } from './admin-auth.service.js';
import {
  crossOriginRefusal,
  hasFilePart,
  nulCharacterRefusal,
  toAdminHttpError,
  unsupportedBody,
} from './admin-http.js';
import { securePanelPage, withScriptNonce } from './admin-page.js';
import { AdminPanelHost } from './admin-panel.host.js';
import { AdminSessions, adminSessionOptions } from './admin-session.js';
import { isSupportRead } from './admin-staff-access.js';
import { AdminErrors } from './admin.errors.js';

/** Same limit as the API's JSON bodies (BODY_LIMIT_BYTES in app.setup.ts). */
export const ADMIN_BODY_LIMIT_BYTES = 100 * 1024;

/** Where the app's request hook leaves its `next` on the Node request for the panel. */
const HAND_BACK = Symbol('adminPanelHandBack');

type HandBack = (error?: unknown) => void;
type WithHandBack = IncomingMessage & { [HAND_BACK]?: HandBack };

/** Per request: the CSP nonce of its page, where reading its body is, a multipart's end. */
const NONCE = Symbol('adminPanelNonce');
const BODY = Symbol('adminPanelBody');
const MULTIPART_END = Symbol('adminPanelMultipartEnd');
type PanelState = FastifyRequest & {
  [NONCE]?: string;
  [BODY]?: 'reading' | 'read';
  [MULTIPART_END]?: () => boolean;
};

/** The boundary of a multipart body, from its Content-Type. */
function multipartBoundary(request: FastifyRequest): string | undefined {
  const type = request.headers['content-type'] ?? '';
  if (!/^multipart\/form-data\s*;/i.test(type)) return undefined;
  return /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(type)?.slice(1).find(Boolean);
}

/**
 * Keeps the last bytes of a multipart body as @fastify/multipart reads it (it pipes the Node
 * request into busboy itself): it treats a body cut before its closing boundary as complete
 * (it stops without an error), and AdminJS would then save the fields it got. The request is
 * paused first, so this listener does not start the flow: the parser's pipe does, and both
 * see every chunk. `ended()` says whether the closing boundary came.
 */
function watchMultipartEnd(raw: IncomingMessage, boundary: string): () => boolean {
  const close = Buffer.from(`--${boundary}--`);
  let tail = Buffer.alloc(0);
  raw.pause();
  raw.on('data', (chunk: Buffer) => {
    const joined = Buffer.concat([tail, chunk]);
    tail = joined.subarray(Math.max(0, joined.length - close.length - 64));
  });
  return () => tail.includes(close);
}

/**
 * The body's length, before anything reads it: over the limit is a 413, a chunked body
 * without Content-Length a 411 (browsers always send one for forms). @fastify/multipart, which
 * AdminJS registers, reads a multipart body from the stream without Fastify's bodyLimit.
 */
function refuseBodyLength(request: FastifyRequest): AppError | undefined {
  if (request.method === 'GET' || request.method === 'HEAD') return undefined;
  const header = request.headers['content-length'];
  if (header === undefined) {
    return request.headers['transfer-encoding'] === undefined
      ? undefined
      : new AppError('http.411', 411, 'Content-Length is required');
  }
  return Number(header) > ADMIN_BODY_LIMIT_BYTES ? CommonErrors.payloadTooLarge() : undefined;
}

/** What every request must pass before its session is read or its body parsed. */
function frontGate(appOrigin: string) {
  return (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void => {
    const raw = reply.raw;
    // The API's no-referrer makes browsers send `Origin: null` on the panel's own form
    // posts; same-origin keeps the real origin for us and still sends nothing elsewhere.
    // Set on the Node response, so that an error the app's filter renders carries it too.
    raw.setHeader('Referrer-Policy', 'same-origin');
    // A CSP nonce for this response in its script-src instead of the app's 'unsafe-inline';
    // the pages get it in the onSend hook (securePanelPage).
    const nonce = randomBytes(16).toString('base64');
    (request as PanelState)[NONCE] = nonce;
    const csp = raw.getHeader('Content-Security-Policy');
    raw.setHeader('Content-Security-Policy', withScriptNonce(String(csp ?? ''), nonce));
    const crossOrigin = crossOriginRefusal(request, appOrigin);
    if (crossOrigin !== undefined) {
      done(AdminErrors.crossSiteRequest(undefined, [{ message: crossOrigin }]));
      return;
    }
    done(refuseBodyLength(request) ?? unsupportedBody(request));
  };
}

/**
 * Behind AdminJS's body parsers: no file parts (the panel has no uploads) and no NUL in the
 * path, the query or a field (PostgreSQL text cannot hold it).
 */
function bodyGate(
  request: FastifyRequest,
  _reply: FastifyReply,
  done: (error?: Error) => void,
): void {
  const state = request as PanelState;
  state[BODY] = 'read';
  if (state[MULTIPART_END]?.() === false) {
    done(AdminErrors.malformedBody());
    return;
  }
  if (hasFilePart(request.body)) {
    done(new AppError('request.unsupported_media_type', 415, 'File uploads are not accepted'));
    return;
  }
  done(nulCharacterRefusal(request));
}

/** The routes of AdminJS that need no sign-in: login, logout and the front end's bundles. */
function publicRoutes(admin: AdminJS): Set<string> {
  const { rootPath, loginPath, logoutPath } = admin.options;
  const bundle = AdminRouter.routes.find((route) => route.action === 'bundleComponents')?.path;
  return new Set([
    loginPath,
    logoutPath,
    ...AdminRouter.assets.map((asset) => `${rootPath}${asset.path}`),
    ...(bundle === undefined ? [] : [`${rootPath}${bundle}`]),
  ]);
}

/**
 * After @adminjs/fastify's own sign-in check (which sends anonymous visitors to the login page
 * but lets through any URL that merely contains an asset's path, e.g. in its query string):
 *
 * - the sign-in check again, by the matched route rather than the URL;
 * - the second, deny-by-default check behind the actions' `isAccessible`: a signed-in session
 *   whose role is not `admin` (support staff) gets 403 `admin.read_only` for anything but its
 *   reads (`isSupportRead`: GET pages, dashboard, list/search/show), before AdminJS runs
 *   anything. The role is the one AdminSessionStore just read from users.role;
 * - the request's resource and action must exist (AdminJS answers an unknown one with a
 *   TypeError, i.e. a 500).
 */
function panelGate(admin: AdminJS) {
  const { rootPath, loginPath, refreshTokenPath } = admin.options;
  const open = publicRoutes(admin);
  const actionsOf = (resourceId: string): Record<string, unknown> | undefined =>
    admin.resources.find((r) => r._decorated?.id() === resourceId)?.decorate().actions;
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const route = request.routeOptions.url ?? '';
    if (open.has(route)) return;
    // Only for an auth provider (refresh tokens), which the panel has none of.
    if (route === `${rootPath}${refreshTokenPath.replace(rootPath, '')}`) {
      throw CommonErrors.notFound();
    }
    const role = request.session.adminUser?.role;
    if (role === undefined) {
      await reply.redirect(loginPath);
      return;
    }
    const path = request.url.split('?', 1)[0]!.slice(rootPath.length);
    if (role !== 'admin' && !isSupportRead(request.method, path)) throw StaffErrors.readOnly();
    const { resourceId, action } = request.params as { resourceId?: string; action?: string };
    if (resourceId === undefined) return;
    const actions = actionsOf(resourceId);
    if (actions === undefined || (action !== undefined && !Object.hasOwn(actions, action))) {
      throw AdminErrors.unknownResource();
    }
  };
}

/**
 * Validators for AdminJS's front-end files, as Express's `sendFile` gave them (@adminjs/fastify
 * reads and sends the whole file every time, with none): `ETag` from size and mtime,
 * `Last-Modified`, revalidated on every use; an unchanged file is a 304 without a body. The
 * bundles are megabytes, and every panel page loads them.
 */
function assetValidators(admin: AdminJS) {
  const files = new Map(
    AdminRouter.assets.map((asset) => [`${admin.options.rootPath}${asset.path}`, asset.src]),
  );
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const src = files.get(request.routeOptions.url ?? '');
    if (src === undefined) return;
    const info = await stat(src);
    const etag = `W/"${info.size.toString(16)}-${info.mtime.getTime().toString(16)}"`;
    void reply
      .header('ETag', etag)
      .header('Last-Modified', info.mtime.toUTCString())
      .header('Cache-Control', 'public, max-age=0');
    if (request.headers['if-none-match'] === etag) await reply.code(304).send();
  };
}

/** The errors AdminAuthService throws to the login page (their messages are locale keys). */
function isLoginRefusal(error: unknown): error is Error {
  return error instanceof AdminLoginThrottledError || error instanceof AdminLoginSecondFactorError;
}

/**
 * AdminJS (through @adminjs/nestjs) on a Fastify instance of the panel's own, with
 * @adminjs/fastify's routes, sessions (@fastify/session, stored in PostgreSQL) and body parsers
 * (@fastify/formbody, @fastify/multipart).
 *
 * Why an instance of its own rather than routes on the API's: the panel is loaded on its first
 * request (AdminPanelHost: AdminJS costs ~1 s and 55 MB unbundled, which an API instance that
 * nobody opens the panel on never pays), and Fastify takes no routes once it is listening. So
 * the API's request hook hands /admin requests to this instance's router (`routing`, Fastify's
 * own entry point for a Node request), before the API's body parsers and routing: after the
 * security headers, X-Request-Id, metrics and the request's logging context, so every /admin
 * response gets the security headers and the request id, and every admin request a log line.
 * What the panel does not route (an unknown /admin path) goes back to the API's Fastify, which
 * answers 404; its errors go back too, to the API's exception filter (the API's error shape,
 * logged with the request id), except the login page's own refusals, which AdminJS renders.
 *
 * Hooks, in order: the same-origin check for every request but a GET, the body gate (size,
 * content type) and the CSP nonce (onRequest, before the session is read); AdminJS's parsers,
 * then no uploads and no NUL (preValidation); AdminJS's sign-in check, then ours with the staff
 * role and unknown-resource checks (preHandler); every HTML page made script-safe and given
 * the nonce (onSend).
 */
@Injectable()
export class AdminFastifyLoader extends AbstractLoader {
  constructor(
    private readonly config: AppConfig,
    private readonly host: AdminPanelHost,
    private readonly sessions: AdminSessions,
  ) {
    super();
  }

  override async register(
    admin: AdminJS,
    _httpAdapter: AbstractHttpAdapter,
    options: AdminModuleOptions,
  ): Promise<void> {
    if (!options.auth) throw new Error('The admin panel is always mounted with authentication');
    const panel = this.createInstance(admin);
    await AdminJSFastify.buildAuthenticatedRouter(
      admin,
      {
        authenticate: options.auth.authenticate,
        cookieName: options.auth.cookieName,
        cookiePassword: options.auth.cookiePassword,
      },
      panel,
      {
        secret: options.auth.cookiePassword,
        ...adminSessionOptions(this.config, this.sessions.store),
      },
    );
    panel.addHook('preValidation', bodyGate);
    panel.addHook('preHandler', panelGate(admin));
    panel.addHook('preHandler', assetValidators(admin));
    await panel.ready();
    // AdminPanelHost mounted its handler at start-up (behind the app's request hook) and passes
    // /admin requests on to this from now on; the app's `next` rides on the Node request.
    const rootPath = admin.options.rootPath;
    this.host.attach(
      (req: WithHandBack, res: ServerResponse, next: HandBack) => {
        // The app matches /ADMIN too; the panel lives at /admin only (its cookie's Path).
        const url = req.url ?? '';
        if (
          url !== rootPath &&
          !url.startsWith(`${rootPath}/`) &&
          !url.startsWith(`${rootPath}?`)
        ) {
          next(CommonErrors.notFound());
          return;
        }
        req[HAND_BACK] = next;
        panel.routing(req, res);
      },
      () => panel.close(),
    );
  }

  private createInstance(admin: AdminJS): FastifyInstance {
    const panel = Fastify({
      logger: false,
      trustProxy: fastifyTrustProxy(this.config.trustProxy),
      bodyLimit: ADMIN_BODY_LIMIT_BYTES,
      genReqId: requestIdOf,
      requestIdHeader: false,
      // Case-sensitive (the session cookie's Path=/admin is); /admin/x/ is /admin/x.
      routerOptions: { ignoreTrailingSlash: true, maxParamLength: 16 * 1024 },
    });
    panel.addHook('onRequest', frontGate(new URL(this.config.appUrl).origin));
    panel.addHook('preParsing', (request, _reply, payload, done) => {
      const state = request as PanelState;
      state[BODY] = 'reading';
      const boundary = multipartBoundary(request);
      if (boundary === undefined) {
        done(null, payload);
        return;
      }
      state[MULTIPART_END] = watchMultipartEnd(request.raw, boundary);
      done(null, payload);
    });
    panel.addHook('onSend', (request, _reply, payload, done) => {
      const nonce = (request as PanelState)[NONCE];
      done(
        null,
        typeof payload === 'string' && nonce !== undefined
          ? securePanelPage(payload, nonce)
          : payload,
      );
    });
    const handBack = (request: FastifyRequest, reply: FastifyReply, error?: unknown): void => {
      void reply.hijack();
      (request.raw as WithHandBack)[HAND_BACK]?.(error);
    };
    panel.setNotFoundHandler((request, reply) => handBack(request, reply));
    panel.setErrorHandler(async (error, request, reply) => {
      if (isLoginRefusal(error) && request.routeOptions.url === admin.options.loginPath) {
        const page = await admin.renderLogin({
          action: admin.options.loginPath,
          errorMessage: error.message,
        });
        return reply.code(400).type('text/html').send(page);
      }
      handBack(request, reply, toAdminHttpError(bodyReadError(request, error)));
      return reply;
    });
    return panel;
  }
}

/**
 * A failure while the body was read (a malformed multipart or form body): the client's, 400
 * `admin.malformed_body` unless it says its own 4xx status.
 */
function bodyReadError(request: FastifyRequest, error: unknown): unknown {
  if ((request as PanelState)[BODY] !== 'reading' || error instanceof AppError) return error;
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500
    ? error
    : AdminErrors.malformedBody();
}
