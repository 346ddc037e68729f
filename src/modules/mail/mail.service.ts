import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import nodemailer, { type Transporter } from 'nodemailer';
import { AppConfig } from '../../config/app-config.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

/**
 * Outgoing mail over SMTP_URL (nodemailer). Without SMTP_URL the message, links included, is
 * written to the log so local development and demos work without a mail server.
 */
@Injectable()
export class MailService implements OnModuleDestroy {
  private readonly logger = new Logger(MailService.name);
  private readonly transport: Transporter | undefined;

  constructor(private readonly config: AppConfig) {
    if (config.mail.smtpUrl !== undefined) {
      this.transport = nodemailer.createTransport(config.mail.smtpUrl);
    }
  }

  get delivers(): boolean {
    return this.transport !== undefined;
  }

  async send(message: MailMessage): Promise<void> {
    if (this.transport === undefined) {
      this.logger.log(
        `Mail not sent (SMTP_URL unset) to ${message.to}: "${message.subject}"\n${message.text}`,
      );
      return;
    }
    await this.transport.sendMail({ from: this.config.mail.from, ...message });
  }

  onModuleDestroy(): void {
    this.transport?.close();
  }
}
