import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Transporter } from 'nodemailer';
import { AppConfig } from '../../config/app-config.js';
import { JobHandler } from '../jobs/job-handler.decorator.js';
import { JobsService } from '../jobs/jobs.service.js';
import type { JobContext } from '../jobs/jobs.types.js';
import { DevOutbox, devOutboxEnabled, mailLogLine } from './dev-outbox.js';
import { mailKey, seal, unseal, type SealedPayload } from './mail-sealing.js';

export interface MailMessage {
  /**
   * What the mail is, for people reading the log or the dev outbox: `verification link`,
   * `password reset link`, `invitation link`, ... Not sent.
   */
  kind: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export const MAIL_JOB = 'mail.send';

/**
 * Outgoing mail, through the job queue: `send` queues the rendered message in the caller's
 * transaction (it goes out once that commits, never if it rolls back) and answers without
 * waiting for SMTP. The `mail.send` handler delivers it over SMTP_URL (nodemailer); an SMTP
 * failure throws, so the queue retries with exponential backoff (about 4 days in all).
 *
 * Delivery is at least once: SMTP accepting a message and the job being marked done are two
 * steps, so a crash between them sends it again. Every attempt of one job carries the same
 * Message-ID (`<job id@sender domain>`), which lets mail systems recognise the duplicate.
 *
 * Without SMTP_URL the mail is not sent: one line naming its kind, recipient and links is
 * logged (`verification link for ada@example.com: http://…`), and outside production the mail
 * is kept in the dev outbox (GET /dev/mail), so local development and demos work without a
 * mail server. nodemailer is imported by the first delivery, and only with SMTP_URL: the API's
 * start-up does not pay for it.
 */
@Injectable()
export class MailService implements OnApplicationShutdown {
  private readonly logger = new Logger(MailService.name);
  private transport: Promise<Transporter> | undefined;
  private readonly key: Buffer;
  private readonly domain: string;
  private readonly keepsMail: boolean;
  private toldUnsent = false;

  constructor(
    private readonly config: AppConfig,
    private readonly jobs: JobsService,
    private readonly outbox: DevOutbox,
  ) {
    this.keepsMail = devOutboxEnabled(config);
    this.key = mailKey(config.jwt.secret);
    this.domain = /@([^\s@<>]+)>?$/.exec(config.mail.from)?.[1] ?? 'localhost';
  }

  /** Queues the mail in the current transaction; returns the job id (also its Message-ID). */
  async send(message: MailMessage): Promise<string> {
    const id = await this.jobs.enqueue<SealedPayload>(MAIL_JOB, seal(this.key, message));
    if (id === null) throw new Error('mail job was not queued');
    return id;
  }

  @JobHandler(MAIL_JOB, {
    // 15 s, 30 s, 1 min, ... doubling (with jitter): about 4 days over 14 retries.
    retry: { limit: 14, delaySeconds: 15, backoff: true },
    expireInSeconds: 120,
    batchSize: 10,
    pollingIntervalSeconds: 1,
  })
  private async deliver(data: SealedPayload, job: JobContext): Promise<void> {
    const sealed = unseal(this.key, data) as Partial<MailMessage>;
    // Mails queued before `kind` existed have none.
    const message = { ...sealed, kind: sealed.kind ?? 'mail' } as MailMessage;
    const { smtpUrl } = this.config.mail;
    if (smtpUrl === undefined) {
      this.keep(message, job);
      return;
    }
    // One transport (and its pooled connections) for every delivery; a failed import is
    // not kept, so the job's retry tries again.
    this.transport ??= import('nodemailer').then(({ default: nodemailer }) =>
      nodemailer.createTransport(smtpUrl),
    );
    const transport = await this.transport.catch((error: unknown) => {
      this.transport = undefined;
      throw error;
    });
    const { to, subject, text, html } = message;
    await transport.sendMail({
      from: this.config.mail.from,
      messageId: `<${job.id}@${this.domain}>`,
      to,
      subject,
      text,
      ...(html === undefined ? {} : { html }),
    });
  }

  /** Without SMTP: one readable log line, and the dev outbox outside production. */
  private keep(message: MailMessage, job: JobContext): void {
    if (!this.toldUnsent) {
      this.toldUnsent = true;
      this.logger.log(
        this.keepsMail
          ? 'SMTP_URL is not set: mails are not sent; each is logged in one line and listed at GET /dev/mail'
          : 'SMTP_URL is not set: mails are not sent; each is logged in one line',
      );
    }
    if (this.keepsMail) this.outbox.add(message, job.id, new Date());
    this.logger.log(mailLogLine(message));
  }

  /** After the job workers stopped (beforeApplicationShutdown): an in-flight mail finishes. */
  async onApplicationShutdown(): Promise<void> {
    (await this.transport?.catch(() => undefined))?.close();
  }
}
