import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../../common/errors/app-error.js';

export const WebhookErrors = defineErrors({
  // Also for another team's endpoint: ids never reveal other teams' webhooks.
  notFound: {
    code: 'webhook.not_found',
    status: HttpStatus.NOT_FOUND,
    message: 'Webhook endpoint not found',
  },
  deliveryNotFound: {
    code: 'webhook.delivery_not_found',
    status: HttpStatus.NOT_FOUND,
    message: 'Webhook delivery not found',
  },
  disabled: {
    code: 'webhook.disabled',
    status: HttpStatus.CONFLICT,
    message: 'The webhook endpoint is disabled; enable it first',
  },
  invalidUrl: {
    code: 'webhook.invalid_url',
    status: HttpStatus.BAD_REQUEST,
    message: 'The webhook URL must be an absolute https:// URL without credentials',
  },
  forbiddenTarget: {
    code: 'webhook.forbidden_target',
    status: HttpStatus.BAD_REQUEST,
    message:
      'The webhook URL must not point to a loopback, private, link-local or otherwise reserved address',
  },
  unresolvableHost: {
    code: 'webhook.unresolvable_host',
    status: HttpStatus.BAD_REQUEST,
    message: "The webhook URL's host name does not resolve",
  },
});
