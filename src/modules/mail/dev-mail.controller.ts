import { Controller, Get, Headers, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../common/decorators/public.decorator.js';
import { CommonErrors } from '../../common/errors/common.errors.js';
import { AppConfig } from '../../config/app-config.js';
import { DevOutbox, devOutboxEnabled, isLoopbackAddress, prefersJson } from './dev-outbox.js';
import { DEV_OUTBOX_PAGE_CSP, renderOutboxPage } from './dev-outbox.page.js';

/** At the root, beside /health: not part of the versioned API (applyGlobalPrefix excludes them). */
export const DEV_MAIL_PATHS = ['dev/mail', 'dev/mail.json'] as const;

/**
 * The dev outbox (docs/frontend.md): the mails this process's workers kept instead of sending,
 * as a page, or as JSON for `Accept: application/json` and /dev/mail.json, `?to=` filtering by
 * recipient. Only outside production without SMTP_URL, and only to clients on this machine
 * (loopback socket address); 404 otherwise, like any unknown path.
 * Left out of the OpenAPI document on purpose: a development aid, not part of the contract.
 */
@ApiExcludeController()
@Public()
@Controller('dev')
export class DevMailController {
  private readonly enabled: boolean;

  constructor(
    config: AppConfig,
    private readonly outbox: DevOutbox,
  ) {
    this.enabled = devOutboxEnabled(config);
  }

  @Get('mail')
  page(
    @Query('to') to: unknown,
    @Headers('accept') accept: string | undefined,
    @Req() req: FastifyRequest,
    @Res() res: FastifyReply,
  ): void {
    this.answer(to, prefersJson(accept), req, res);
  }

  @Get('mail.json')
  json(@Query('to') to: unknown, @Req() req: FastifyRequest, @Res() res: FastifyReply): void {
    this.answer(to, true, req, res);
  }

  private answer(to: unknown, json: boolean, req: FastifyRequest, res: FastifyReply): void {
    if (!this.enabled || !isLoopbackAddress(req.socket.remoteAddress)) {
      throw CommonErrors.notFound();
    }
    if (to !== undefined && (typeof to !== 'string' || to.length > 320)) {
      throw CommonErrors.validation(undefined, [
        { field: 'to', message: 'to must be one email address' },
      ]);
    }
    const recipient = to === '' ? undefined : to;
    const entries = this.outbox.list(recipient);
    void res.header('Cache-Control', 'no-store').header('Vary', 'Accept');
    if (json) {
      void res.header('Content-Type', 'application/json; charset=utf-8').send({ items: entries });
    } else {
      void res
        .header('Content-Type', 'text/html; charset=utf-8')
        .header('Content-Security-Policy', DEV_OUTBOX_PAGE_CSP)
        .send(renderOutboxPage(entries, recipient));
    }
  }
}
