import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../../common/errors/app-error.js';

export const BillingErrors = defineErrors({
  notConfigured: {
    code: 'billing.not_configured',
    status: HttpStatus.SERVICE_UNAVAILABLE,
    message: 'Billing is not configured on this server',
  },
  stripeUnavailable: {
    code: 'billing.stripe_unavailable',
    status: HttpStatus.BAD_GATEWAY,
    message: 'Stripe could not be reached; try again shortly',
  },
  unknownPrice: {
    code: 'billing.unknown_price',
    status: HttpStatus.BAD_REQUEST,
    message: 'priceId is not one of the plans offered (GET /billing/plans)',
  },
  alreadySubscribed: {
    code: 'billing.already_subscribed',
    status: HttpStatus.CONFLICT,
    message: 'The team already has a subscription; change or cancel it in the customer portal',
  },
  noCustomer: {
    code: 'billing.no_customer',
    status: HttpStatus.CONFLICT,
    message: 'The team has no Stripe customer yet; start a checkout first',
  },
  checkoutSessionNotFound: {
    code: 'billing.checkout_session_not_found',
    status: HttpStatus.NOT_FOUND,
    message: 'No such checkout session',
  },
  checkoutIncomplete: {
    code: 'billing.checkout_incomplete',
    status: HttpStatus.CONFLICT,
    message: 'The checkout session is not complete',
  },
  invalidSignature: {
    code: 'billing.invalid_signature',
    status: HttpStatus.BAD_REQUEST,
    message: 'Missing or invalid Stripe-Signature',
  },
  activeSubscription: {
    code: 'billing.active_subscription',
    status: HttpStatus.CONFLICT,
    message:
      'You are the only owner of a team with a live subscription; cancel it in the customer portal (or add another owner) first',
  },
  noLiveSubscription: {
    code: 'billing.no_live_subscription',
    status: HttpStatus.CONFLICT,
    message: 'The team has no live subscription to cancel',
  },
  noPendingCancel: {
    code: 'billing.no_pending_cancel',
    status: HttpStatus.CONFLICT,
    message: 'The subscription has no pending cancellation to undo',
  },
});
