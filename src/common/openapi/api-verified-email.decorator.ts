import { applyDecorators } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import { VerifiedEmailErrors } from '../auth/verified-email.js';
import { ApiErrors } from './api-errors.decorator.js';

/** Operation extension marking what needs a verified email whatever EMAIL_VERIFICATION says. */
export const VERIFIED_EMAIL_EXTENSION = 'x-verified-email-required';

/** What the document says on each such operation (the finalizer appends it to the description). */
export const VERIFIED_EMAIL_RULE =
  "Needs a verified email, also with EMAIL_VERIFICATION=optional (else 403 `email.unverified`): anyone can sign up with another person's address, so an unverified account may not set up access that outlives its sessions. A password reset removes what an account set up before its address was verified.";

/**
 * Documents that the operation refuses users whose email is not verified (the service enforces
 * it through `assertVerifiedEmail` or the access layer's `verifiedEmail` option): the 403 and
 * the rule in the description, so docs and enforcement are reviewed side by side.
 */
export const ApiVerifiedEmailRequired = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    ApiErrors(VerifiedEmailErrors.emailUnverified),
    ApiExtension(VERIFIED_EMAIL_EXTENSION, true),
  );
