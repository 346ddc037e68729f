import { Injectable, type OnModuleInit } from '@nestjs/common';
import type Stripe from 'stripe';
import { AppError } from '../../common/errors/app-error.js';
import { AppConfig } from '../../config/app-config.js';
import { BillingErrors } from './billing.errors.js';

/** Options for `new Stripe(key, options)`; STRIPE_API_URL points it at a compatible server. */
export function stripeOptions(apiUrl: URL | undefined): Stripe.StripeConfig {
  const options: Stripe.StripeConfig = { maxNetworkRetries: 2, timeout: 15_000, telemetry: false };
  if (apiUrl !== undefined) {
    const protocol = apiUrl.protocol === 'http:' ? 'http' : 'https';
    // The SDK takes host, port and protocol (no base path): only the URL's origin is used.
    options.host = apiUrl.hostname;
    options.port = apiUrl.port || (protocol === 'http' ? 80 : 443);
    options.protocol = protocol;
  }
  return options;
}

/**
 * The configured Stripe SDK, or none when STRIPE_SECRET_KEY is unset: then every billing
 * operation fails with 503 `billing.not_configured` and the rest of the app is unaffected.
 *
 * The SDK (about 0.1 s of module loading, the largest optional dependency) is imported by
 * `onModuleInit`, and only when a secret key is set: an instance without billing never loads
 * it, and one with billing has it before the app listens.
 */
@Injectable()
export class StripeClient implements OnModuleInit {
  private sdk: typeof Stripe | undefined;
  private stripe: Stripe | undefined;
  readonly webhookSecret: string | undefined;

  constructor(private readonly config: AppConfig) {
    this.webhookSecret = config.stripe.webhookSecret;
  }

  async onModuleInit(): Promise<void> {
    const { secretKey, apiUrl } = this.config.stripe;
    if (secretKey === undefined) return;
    this.sdk = (await import('stripe')).default;
    this.stripe = new this.sdk(secretKey, stripeOptions(apiUrl));
  }

  get configured(): boolean {
    return this.stripe !== undefined;
  }

  /** The SDK; throws 503 `billing.not_configured` without a secret key. */
  get api(): Stripe {
    if (this.stripe === undefined) throw BillingErrors.notConfigured();
    return this.stripe;
  }

  /** True for Stripe's "No such …" answer (HTTP 404, `resource_missing`). */
  isNotFound(error: unknown): boolean {
    return (
      this.isStripeError(error) && (error.statusCode === 404 || error.code === 'resource_missing')
    );
  }

  /**
   * Runs one Stripe call; a Stripe failure becomes 502 `billing.stripe_unavailable` (logged by
   * the caller's context through the message), our own AppErrors pass through unchanged.
   */
  async call<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (this.isStripeError(error)) {
        throw BillingErrors.stripeUnavailable(undefined, [
          { message: `Stripe answered ${error.statusCode ?? 'no status'} (${error.type})` },
        ]);
      }
      throw error;
    }
  }

  /** Only the loaded SDK throws its errors: without it nothing is one. */
  private isStripeError(error: unknown): error is Stripe.errors.StripeError {
    return this.sdk !== undefined && error instanceof this.sdk.errors.StripeError;
  }
}
