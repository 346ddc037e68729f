import AdminJSExpress from '@adminjs/express';
import { ExpressLoader, type AdminModuleOptions } from '@adminjs/nestjs';
import { Injectable } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import type AdminJS from 'adminjs';
import type { Express, NextFunction, Request, Response } from 'express';

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

/**
 * @adminjs/nestjs's ExpressLoader with a body-size gate in front of the AdminJS router: the
 * same authenticated router, mounted the same way (its `reorderRoutes` puts it ahead of
 * Nest's body parsers, which would otherwise consume the form bodies AdminJS needs).
 */
@Injectable()
export class AdminExpressLoader extends ExpressLoader {
  override register(
    admin: AdminJS,
    httpAdapter: AbstractHttpAdapter,
    options: AdminModuleOptions,
  ): Promise<void> {
    if (!options.auth) throw new Error('The admin panel is always mounted with authentication');
    const app = httpAdapter.getInstance<Express>();
    const router = AdminJSExpress.buildAuthenticatedRouter(
      admin,
      options.auth,
      undefined,
      options.sessionOptions,
      {
        ...options.formidableOptions,
        maxFieldsSize: ADMIN_BODY_LIMIT_BYTES,
        maxFields: 200,
        onPart,
      } as never,
    );
    // The layer must be named "admin": that is how reorderRoutes finds it.
    app.use(
      options.adminJsOptions.rootPath ?? '/admin',
      function admin(req: Request, res: Response, next: NextFunction) {
        const refusal = refuseBody(req);
        if (refusal) {
          next(refusal);
          return;
        }
        router(req, res, next);
      },
    );
    (this as unknown as { reorderRoutes(app: Express): void }).reorderRoutes(app);
    return Promise.resolve();
  }
}
